"""Content of ex01_perceptron: the step rule, prediction, the Rosenblatt update and training."""

from . import Given, Markdown, Solution, Written

CHAPTER = ("02_perceptron", "The perceptron")
COVERS = (
    "the step function with its strict rule, the perceptron's prediction for a batch, "
    "Rosenblatt's update rule and the training loop on logic gates; a written answer on why a "
    "single perceptron cannot learn XOR"
)

IMPORTS = ["import numpy as np"]

INTRO = r"""
# Exercise 1: the perceptron

In this notebook you implement Rosenblatt's perceptron from scratch with NumPy: the step
function, the prediction, the update rule and the training loop. The chapter
*The perceptron* explains every formula used here.

**How this notebook works.** Write the body of each function where it says
`YOUR CODE HERE` (delete the `raise NotImplementedError()` line). Signatures, docstrings
and shapes are given; keep them. After each function a test cell checks it against
the course's reference on fixed and random inputs and tells you the first input that
fails, what was expected and what you returned, and often the likely cause. Run the
test cells as often as you like. When you submit, the same checks run again together
with hidden tests on other inputs.

Use NumPy only: calling `dlcourse` inside your functions earns no points.
Run the next cell first.
"""

CELLS = [
    Markdown(r"""
## 1. The step function

The perceptron outputs 1 when its net input $z = \mathbf{x}\cdot\mathbf{w} + b$ is
*strictly* positive and 0 otherwise:

$$
\mathrm{step}(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}
$$

Note the strict inequality: $\mathrm{step}(0) = 0$. (Some notes write `>=`; with it, the
AND-gate trace in the chapter comes out differently.)
"""),
    Solution("step", r'''
def step(z):
    """Heaviside step with the strict rule, element-wise.

    Parameters
    ----------
    z : ndarray, shape (...)
        Net inputs.

    Returns
    -------
    ndarray, shape (...)
        1.0 where z > 0 and 0.0 elsewhere (so step(0) = 0).
    """
    ### BEGIN SOLUTION
    return np.where(np.asarray(z) > 0, 1.0, 0.0)
    ### END SOLUTION
''', ["step_matches_reference"]),
    Markdown(r"""
## 2. Prediction

For a batch $X$ of shape `(N, D)` (one sample per row), weights $\mathbf{w}$ of shape
`(D,)` and a scalar bias $b$, the predictions are
$\hat{\mathbf{y}} = \mathrm{step}(X\mathbf{w} + b)$, shape `(N,)`. Use your `step`.
"""),
    Solution("perceptron_predict", r'''
def perceptron_predict(X, w, b):
    """Predicted labels of a perceptron for a batch of samples.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    w : ndarray, shape (D,)
    b : float

    Returns
    -------
    ndarray, shape (N,)
        step(X @ w + b): 1.0 or 0.0 per sample.
    """
    ### BEGIN SOLUTION
    return step(X @ w + b)
    ### END SOLUTION
''', ["predict_matches_reference"]),
    Markdown(r"""
## 3. The update rule

For one sample $\mathbf{x}$ (shape `(D,)`) with label $y \in \{0, 1\}$, the perceptron
first predicts $\hat y = \mathrm{step}(\mathbf{x}\cdot\mathbf{w} + b)$, then moves the
weights by the error $e = y - \hat y$:

$$
\mathbf{w} \leftarrow \mathbf{w} + \eta\, e\, \mathbf{x}, \qquad b \leftarrow b + \eta\, e .
$$

Return the *new* `(w, b)`; do not change the arrays you were given (write
`w + ...`, not `w += ...`). When the prediction is right, $e = 0$ and nothing changes.
"""),
    Solution("perceptron_update", r'''
def perceptron_update(x, y, w, b, lr):
    """One step of Rosenblatt's rule on a single sample.

    Parameters
    ----------
    x : ndarray, shape (D,)
    y : float
        The label, 0.0 or 1.0.
    w : ndarray, shape (D,)
    b : float
    lr : float
        The learning rate (eta).

    Returns
    -------
    w_new : ndarray, shape (D,)
        w + lr * (y - y_hat) * x
    b_new : float
        b + lr * (y - y_hat)
    """
    ### BEGIN SOLUTION
    y_hat = step(x @ w + b)
    error = y - y_hat
    return w + lr * error * x, b + lr * error
    ### END SOLUTION
''', ["update_matches_reference"]),
    Markdown(r"""
## 4. Training

Start from zero weights (`np.zeros(D)`, float64) and bias 0. Each epoch visits the
samples *in the given order* and applies `perceptron_update` to each. Run exactly
`epochs` epochs and return the final `(w, b)`.

For the AND gate with learning rate 0.1 the first update happens at input `[1, 1]` and
gives `w = [0.1, 0.1]`, `b = 0.1`.
"""),
    Solution("train_perceptron", r'''
def train_perceptron(X, y, lr=0.1, epochs=10):
    """Train a perceptron with Rosenblatt's rule from zero weights.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    y : ndarray, shape (N,)
        Labels 0.0 or 1.0.
    lr : float
    epochs : int
        Full passes over the samples, each in the given order.

    Returns
    -------
    w : ndarray, shape (D,)
    b : float
    """
    ### BEGIN SOLUTION
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            w, b = perceptron_update(x_i, y_i, w, b, lr)
    return w, b
    ### END SOLUTION
''', ["training_matches_reference"]),
    Given("try_the_gates", r'''
# Try it (not graded): train on the logic gates and look at the predictions.
gate_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
for name, labels in [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("XOR", [0, 1, 1, 0])]:
    try:
        w, b = train_perceptron(gate_X, np.array(labels, dtype=float), lr=0.1, epochs=20)
        print(name, "w =", w, "b =", b, "predictions:", perceptron_predict(gate_X, w, b))
    except NotImplementedError:
        print("implement train_perceptron and perceptron_predict first")
        break
'''),
    Written("xor_answer", 2, r"""
## 5. Written answer: why not XOR?

Training on XOR never settles: the predictions above stay wrong for at least one input,
however many epochs you run. Explain why **no** choice of $w_1, w_2, b$ lets a single
perceptron compute XOR. (Hint: write the four conditions that the net input must satisfy
and combine them.) Then say in one sentence what changes with a hidden layer.
""", r"""
XOR needs $b \le 0$ (input 00 gives 0), $w_2 + b > 0$ (01 gives 1), $w_1 + b > 0$
(10 gives 1) and $w_1 + w_2 + b \le 0$ (11 gives 0). Adding the middle two gives
$w_1 + w_2 + 2b > 0$, so $w_1 + w_2 + b > -b \ge 0$, which contradicts the last
condition. Geometrically, the perceptron's boundary is one straight line and no line
separates {01, 10} from {00, 11}. A hidden layer can compute two half-planes (for
example OR and NAND) and combine them (AND), so a two-layer network solves XOR.
"""),
]
