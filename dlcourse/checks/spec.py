"""The description of one autograded part: :class:`Part`, :class:`Case`, :class:`Mistake`, :class:`Tolerance`.

Everything here is data plus trusted functions (references, input draws, mistake
predictions). Nothing here runs a learner's code: :mod:`dlcourse.checks` (in the
learner's kernel) and ``dlcourse-grade`` (out of it) do that, and both judge what
came back with :func:`dlcourse.checks.judge.grade_outcomes`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .callables import FunctionSpec

__all__ = ["Tolerance", "EXACT", "TINY", "TIME_LIMIT", "Case", "Mistake", "Part", "case", "drawn_cases"]

#: Ulps of the smallest subnormal that a stability part tolerates absolutely (:meth:`Tolerance.relative`).
TINY = 256

#: Seconds each call of a learner's function may run in the notebook's checks (``Part.time_limit``).
TIME_LIMIT = 5.0


@dataclass(frozen=True)
class Tolerance:
    """Absolute and relative tolerances by dtype: ``|got - expected| <= atol + rtol * |expected|``.

    The looser float32 pair applies when either the expected or the returned
    array is float32 (or narrower).
    """

    rtol: float = 1e-7
    atol: float = 1e-10
    rtol32: float = 1e-4
    atol32: float = 1e-6

    def for_dtypes(self, *dtypes) -> tuple[float, float]:
        """``(rtol, atol)`` for values of these dtypes (the loosest that applies)."""
        narrow = any(np.dtype(d).kind in "fc" and np.dtype(d).itemsize < (8 if np.dtype(d).kind == "f" else 16)
                     for d in dtypes)
        return (self.rtol32, self.atol32) if narrow else (self.rtol, self.atol)

    def relative(self) -> "Tolerance":
        """The same relative tolerances with an absolute one of :data:`TINY` ulps of the smallest subnormal.

        What a part that promises stability is judged with: a value far below the usual
        ``atol`` (``exp(-740)``, ``sigmoid(-40)``) must still be right to ``rtol``, so a formula
        that overflows and lands on 0 (``1 / (1 + exp(740))``) or that cancels (``1 + tanh(z/2)``
        at ``z = -40``) is told apart from one that is accurate there.
        """
        return Tolerance(self.rtol, TINY * float(np.finfo(np.float64).smallest_subnormal),
                         self.rtol32, TINY * float(np.finfo(np.float32).smallest_subnormal))


#: For answers exact to rounding (analytic gradients): float64 agreement that no
#: finite-difference estimate reaches (central differences get ~1e-10 at best).
EXACT = Tolerance(rtol=1e-11, atol=1e-13)


@dataclass(frozen=True)
class Case:
    """One call of the learner's function: ``fn(*args, **kwargs)``.

    ``args``/``kwargs`` hold only data: ndarrays, Python numbers, strings, tuples of
    those, and :class:`dlcourse.checks.callables.FunctionSpec` (a function given as
    a name plus arrays, for parts whose argument is a function). ``kind`` says in
    words what sort of input this is; it is safe to show for hidden cases (it never
    holds the expected value). ``hidden`` marks cases drawn for hidden tests.

    ``tags`` are the input's traits that a learner's code can get wrong (``"KH != KW"``,
    ``"overlapping windows"``, ``"soft targets"``, ``"N = 1"``...); :meth:`traits` adds
    the ones read off the arrays (``"float32"``). A hidden case must have a visible
    *sibling*, a visible case with every one of its traits (a test enforces it), so
    hidden inputs differ from the visible ones in values, not in kind.

    ``judge_data`` is data for the part's ``criterion`` only (a held-out set on which a
    trained model is scored); it never reaches the learner's function or the sandbox.
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    kind: str = "input"
    hidden: bool = False
    tags: frozenset = frozenset()
    judge_data: tuple = ()

    def traits(self) -> frozenset:
        """``tags`` plus the traits read off the arguments: ``"float32"`` for a float32 array."""
        def arrays(v):
            if isinstance(v, np.ndarray):
                yield v
            elif isinstance(v, tuple):
                for x in v:
                    yield from arrays(x)

        found = set(self.tags)
        if any(a.dtype == np.float32 for v in list(self.args) + list(self.kwargs.values()) for a in arrays(v)):
            found.add("float32")
        return frozenset(found)

    def materialize(self) -> tuple[tuple, dict]:
        """Fresh copies of the arguments, with every FunctionSpec turned into a Python function."""
        def fresh(value):
            if isinstance(value, np.ndarray):
                return value.copy()
            if isinstance(value, FunctionSpec):
                return value.build()
            if isinstance(value, tuple):
                return tuple(fresh(v) for v in value)
            return value

        return tuple(fresh(a) for a in self.args), {k: fresh(v) for k, v in self.kwargs.items()}

    def describe(self, names: tuple[str, ...] = ()) -> str:
        """The arguments in words, for visible feedback (shapes and small values)."""
        def show(value) -> str:
            if isinstance(value, np.ndarray):
                if value.size <= 12:
                    body = np.array2string(value, precision=4, separator=", ", threshold=12)
                    return f"np.array({body}, dtype={value.dtype})" if value.dtype != np.float64 else f"np.array({body})"
                return f"<array of shape {value.shape}, dtype {value.dtype}>"
            if isinstance(value, FunctionSpec):
                return value.describe()
            if isinstance(value, tuple):  # nested parameters: each array by its shape, long tuples by length
                if len(value) > 6:
                    return f"<tuple of {len(value)} items>"
                return "(" + ", ".join(show(v) for v in value) + ("," if len(value) == 1 else "") + ")"
            return repr(value)

        parts = []
        for i, a in enumerate(self.args):
            label = f"{names[i]}=" if i < len(names) else ""
            parts.append(label + show(a))
        parts += [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


def case(*args, kind: str = "input", tags=(), judge_data=(), **kwargs) -> Case:
    """Shorthand: ``case(z, kind="zeros", tags=("zeros",))`` is ``Case(args=(z,), kind="zeros", tags=...)``."""
    return Case(args=tuple(args), kwargs=dict(kwargs), kind=kind, tags=frozenset(tags), judge_data=tuple(judge_data))


@dataclass(frozen=True)
class Mistake:
    """A known mistake and the feedback that names it.

    ``predict(case, expected)`` returns what code with this mistake would return on
    ``case`` (``expected`` is the reference's output, for mistakes that are a simple
    change of it, such as a flipped sign). ``on_warning`` instead makes the mistake
    match when the learner's call warned with a message containing that text (for
    overflow). :mod:`dlcourse.checks.diagnose` reports the mistake only when it is
    verified: the learner's output (or one component of a tuple output) equals the
    prediction, within the part's normal tolerance, on every case it was run on, and
    differs from the reference on the input shown (and on two inputs where two tell them apart).
    """

    name: str
    message: str
    predict: Callable[[Case, Any], Any] | None = None
    on_warning: str | None = None

    @classmethod
    def calls(cls, name: str, message: str, fn: Callable) -> "Mistake":
        """A mistake whose output is ``fn(*case.args, **case.kwargs)`` (a mistaken implementation)."""
        def predict(c: Case, expected):
            args, kwargs = c.materialize()
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)
        return cls(name, message, predict)

    @classmethod
    def sign_flipped(cls) -> "Mistake":
        """The result is minus the right one."""
        return cls.transforms("sign flipped", "the sign is flipped: you return minus the right answer "
                              "(check the order of a subtraction, or a missing minus sign)", lambda e: -e)

    @classmethod
    def scaled(cls, factor: float, name: str, message: str) -> "Mistake":
        """The result is ``factor`` times the right one (a missing or extra constant)."""
        return cls.transforms(name, message, lambda e, f=factor: e * f)

    @classmethod
    def transforms(cls, name: str, message: str, fn: Callable) -> "Mistake":
        """A mistake whose output is ``fn(expected)`` (for example ``-expected``)."""
        def predict(c: Case, expected):
            with np.errstate(all="ignore"):
                if isinstance(expected, tuple):
                    return tuple(fn(np.asarray(e)) for e in expected)
                return fn(np.asarray(expected))
        return cls(name, message, predict)


@dataclass(frozen=True)
class Part:
    """One autograded part of an assignment, described once for both graders.

    Attributes
    ----------
    assignment, grade_id
        The nbgrader assignment (``"ex02_mlp"``) and the grade id of the test cell
        that scores this part (``"sigmoid_is_stable"``); grade ids are unique across
        the course.
    function, params
        The name of the function the learner writes and its parameter names.
    reference
        Trusted function with the learner's signature that returns the right answer.
    points
        nbgrader points of the test cell.
    fixed, draw, n_draws
        ``fixed()`` gives the visible fixed cases; ``draw(rng)`` one random visible case,
        called ``n_draws`` times. (The hidden cases are not here: they belong to the
        instructor's grader, ``dlcourse_grade.hidden``, which learners do not install.)
    tolerance, dtype
        :class:`Tolerance`, and the dtype rule for the result: ``"same"`` (exactly the
        reference's dtype), ``"float"`` (any floating dtype), ``"int"`` (a Python or
        NumPy integer) or ``"any"`` (any real number type, bool included).
    outputs
        Names of the components when the function returns a tuple, else ``()``.
    mistakes
        Part-specific :class:`Mistake` s (generic ones such as a flipped sign are added
        by the grader).
    depends_on
        Names of the learner's earlier functions that this function calls.
    stability
        If true, the part promises numerical stability and is judged on the values alone,
        never on warnings (which a learner can silence): finite where the reference is
        finite, and right to the relative tolerance down to the subnormals
        (:meth:`Tolerance.relative`), on extreme inputs that the grader draws at grading time.
        Warnings are reported but never cost points, here as everywhere.
    partial
        If true and ``outputs`` has several components, each component that is right
        on every case earns its share of the points.
    analytic
        The answer is exact to rounding (an analytic gradient): the tolerance is
        :data:`EXACT`, and a result that is only close (as finite differences are) is told so.
    time_limit
        Seconds each call may run in the notebook's checks (:data:`TIME_LIMIT`).
    criterion
        Optional trusted ``criterion(case, value) -> str`` that judges a returned value
        instead of equality with the reference: ``""`` when the value meets it, else the
        problem in words (an accuracy reached on ``case.judge_data``, a valid order
        among several right ones). The reference must meet it (a test checks that).
    title
        One line saying what the part checks.
    """

    assignment: str
    grade_id: str
    function: str
    params: tuple[str, ...]
    reference: Callable
    points: float
    fixed: Callable[[], list[Case]]
    draw: Callable[[np.random.Generator], Case] | None = None
    n_draws: int = 4
    tolerance: Tolerance = Tolerance()
    dtype: str = "same"
    outputs: tuple[str, ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    depends_on: tuple[str, ...] = ()
    stability: bool = False
    partial: bool = False
    title: str = ""
    analytic: bool = False
    time_limit: float = TIME_LIMIT
    criterion: Callable[[Case, Any], str] | None = None

    def rng(self, seed: int | None, hidden: bool) -> np.random.Generator:
        """The generator for this part's draws: one stream per (seed, grade id, hidden)."""
        key = zlib.crc32(self.grade_id.encode())
        return np.random.default_rng([0 if seed is None else int(seed), key, int(hidden)])

    def cases(self, seed: int | None = None) -> list[Case]:
        """The visible cases: the fixed ones, then ``n_draws`` random draws seeded with ``seed``.

        ``seed`` is a non-negative int; ``None`` is the course's fixed seed (0), so
        learners see the same cases every time; the out-of-kernel grader passes a seed
        of its own. The fixed cases are the same for every seed.
        """
        return drawn_cases(self, self.fixed, self.draw, self.n_draws, seed, hidden=False)

    def expected(self, c: Case):
        """The reference's output on ``c`` (computed on fresh copies, floating warnings silenced)."""
        args, kwargs = c.materialize()
        with np.errstate(all="ignore"):
            out = self.reference(*args, **kwargs)
        if self.outputs:
            return tuple(out)
        return out


def drawn_cases(part: Part, fixed: Callable[[], list[Case]] | None,
                draw: Callable[[np.random.Generator], Case] | None, count: int,
                seed: int | None, hidden: bool) -> list[Case]:
    """``fixed()`` and then ``count`` draws of ``draw`` from ``part.rng(seed, hidden)``, marked ``hidden``."""
    out = list(fixed()) if fixed else []
    if draw is not None:
        rng = part.rng(seed, hidden)
        out += [draw(rng) for _ in range(count)]
    return [Case(c.args, c.kwargs, c.kind, hidden, c.tags, c.judge_data) for c in out]
