"""Content of ex05_optimizers: single update steps and a cosine schedule, torch.optim semantics."""

from . import Given, Markdown, Solution, Written

CHAPTER = ("07_optimizers", "Optimizers")
COVERS = (
    "one update step of SGD, momentum, RMSprop and Adam exactly as torch.optim computes them, "
    "and a cosine learning-rate schedule; a written answer on Adam's bias correction"
)

IMPORTS = ["import math", "import numpy as np"]

INTRO = r"""
# Exercise 5: optimizers

You write one update step of each optimizer of the chapter *Optimizers*: plain SGD,
momentum, RMSprop and Adam, plus a cosine learning-rate schedule. Each step is a pure
function: it receives the parameters $w$, their gradient and the optimizer's state, and
returns **new** arrays (never change the arrays you receive: no `w -= ...`). The formulas
are exactly those of `torch.optim` with default options; where textbooks write them
differently, the text says so.

Write each body where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
Calling `dlcourse` inside your functions earns no points. Run the next cell first.
"""

CELLS = [
    Markdown(r"""
## 1. SGD and momentum

SGD: $w \leftarrow w - \eta\, g$.

Momentum as `torch.optim.SGD(momentum=mu)` keeps a velocity $v$ (zero before the first
step) and applies the learning rate at the update:

$$v \leftarrow \mu\, v + g, \qquad w \leftarrow w - \eta\, v.$$

(Many textbooks write $v \leftarrow \mu v - \eta g$, $w \leftarrow w + v$: the same path
for a constant $\eta$, but a velocity scaled by $\eta$. Return torch's $v$.)
"""),
    Solution("sgd_step", r'''
def sgd_step(w, grad, lr):
    """One step of gradient descent.

    Parameters
    ----------
    w, grad : ndarray, same shape (...)
    lr : float

    Returns
    -------
    ndarray, shape of w
        w - lr * grad (a new array)
    """
    ### BEGIN SOLUTION
    return w - lr * grad
    ### END SOLUTION
''', ["sgd_step_matches_reference"]),
    Solution("momentum_step", r'''
def momentum_step(w, grad, velocity, lr, momentum):
    """One step of SGD with (heavy-ball) momentum, as torch.optim.SGD.

    Parameters
    ----------
    w, grad, velocity : ndarray, same shape (...)
    lr, momentum : float

    Returns
    -------
    w_new : ndarray
        w - lr * velocity_new
    velocity_new : ndarray
        momentum * velocity + grad
    """
    ### BEGIN SOLUTION
    velocity_new = momentum * velocity + grad
    return w - lr * velocity_new, velocity_new
    ### END SOLUTION
''', ["momentum_step_matches_reference"]),
    Markdown(r"""
## 2. RMSprop and Adam

RMSprop (`torch.optim.RMSprop`, decay $\alpha$, default 0.99) keeps a running average $s$
of the squared gradients; $\epsilon$ is added **outside** the square root:

$$s \leftarrow \alpha\, s + (1 - \alpha)\, g^2, \qquad w \leftarrow w - \eta\,\frac{g}{\sqrt{s} + \epsilon}.$$

Adam (`torch.optim.Adam`) keeps the first moment $m$ and the second moment $v$ (both zero
before step 1) and corrects their bias towards zero; $t$ is the number of this step
(1 for the first):

$$m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
\hat m = \frac{m}{1 - \beta_1^t}, \quad \hat v = \frac{v}{1 - \beta_2^t}, \quad
w \leftarrow w - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}.$$

Each returned array earns its share of the points.
"""),
    Solution("rmsprop_step", r'''
def rmsprop_step(w, grad, sq_avg, lr, alpha=0.99, eps=1e-8):
    """One RMSprop step, as torch.optim.RMSprop.

    Parameters
    ----------
    w, grad, sq_avg : ndarray, same shape (...)
    lr, alpha, eps : float

    Returns
    -------
    w_new : ndarray
        w - lr * grad / (sqrt(sq_avg_new) + eps)
    sq_avg_new : ndarray
        alpha * sq_avg + (1 - alpha) * grad**2
    """
    ### BEGIN SOLUTION
    sq_avg_new = alpha * sq_avg + (1 - alpha) * grad**2
    return w - lr * grad / (np.sqrt(sq_avg_new) + eps), sq_avg_new
    ### END SOLUTION
''', ["rmsprop_step_matches_reference"]),
    Solution("adam_step", r'''
def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step with bias correction, as torch.optim.Adam.

    Parameters
    ----------
    w, grad, m, v : ndarray, same shape (...)
        m and v are the moments after step t - 1 (zeros before the first step).
    t : int
        The number of this step, starting at 1.
    lr, beta1, beta2, eps : float

    Returns
    -------
    w_new, m_new, v_new : ndarray
    """
    ### BEGIN SOLUTION
    m_new = beta1 * m + (1 - beta1) * grad
    v_new = beta2 * v + (1 - beta2) * grad**2
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    ### END SOLUTION
''', ["adam_step_matches_reference"]),
    Markdown(r"""
## 3. Cosine annealing

The learning rate falls from $\eta_{\max}$ to $\eta_{\min}$ along half a cosine over
$T_{\max}$ epochs (and, as in PyTorch, keeps following the cosine after $T_{\max}$):

$$\eta_e = \eta_{\min} + \frac12(\eta_{\max} - \eta_{\min})\Bigl(1 + \cos\frac{\pi e}{T_{\max}}\Bigr).$$
"""),
    Solution("cosine_lr", r'''
def cosine_lr(epoch, lr_max, lr_min, T_max):
    """The cosine-annealed learning rate at an epoch.

    Parameters
    ----------
    epoch : int, >= 0
    lr_max, lr_min : float
    T_max : int, >= 1

    Returns
    -------
    float
    """
    ### BEGIN SOLUTION
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * epoch / T_max))
    ### END SOLUTION
''', ["cosine_schedule_matches_reference"]),
    Given("compare_optimizers", r'''
# Try it (not graded): minimise f(w) = w0**2 + 10 w1**2 from (3, 1) with each optimizer.
def _grad(w):
    return np.array([2 * w[0], 20 * w[1]])

try:
    w_sgd = w_mom = w_adam = np.array([3.0, 1.0])
    vel, m, v = np.zeros(2), np.zeros(2), np.zeros(2)
    for t in range(1, 51):
        w_sgd = sgd_step(w_sgd, _grad(w_sgd), 0.04)
        w_mom, vel = momentum_step(w_mom, _grad(w_mom), vel, 0.04, 0.5)
        w_adam, m, v = adam_step(w_adam, _grad(w_adam), m, v, t, lr=0.1)
    print("after 50 steps: SGD", w_sgd, "momentum", w_mom, "Adam", w_adam)
except NotImplementedError:
    print("implement sgd_step, momentum_step and adam_step first")
'''),
    Written("bias_correction_answer", 2, r"""
## 4. Written answer: why correct the bias?

At the first step ($t = 1$, $m = v = 0$ before it), compute $m$, $v$, $\hat m$ and
$\hat v$ in terms of the gradient $g$. What would the first update look like **without**
bias correction (with $\beta_1 = 0.9$, $\beta_2 = 0.999$), and why is that a problem?
""", r"""
After step 1: $m = 0.1g$, $v = 0.001g^2$, so $\hat m = g$ and $\hat v = g^2$ and the
update is $\eta\,g/(|g| + \epsilon) \approx \eta\,\mathrm{sign}(g)$: a step of size
$\eta$ per coordinate. Without the correction the update is
$\eta \cdot 0.1g/(\sqrt{0.001}|g|) \approx 3.16\,\eta\,\mathrm{sign}(g)$: the moments are
biased towards their zero start, differently for $m$ and $v$, so the early steps have the
wrong size (here about three times too large) until $\beta^t$ becomes small, which for
$\beta_2 = 0.999$ takes thousands of steps.
"""),
]
