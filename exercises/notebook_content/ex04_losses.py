"""Content of ex04_losses: regression and classification losses and their gradients."""

from . import Markdown, Solution, Written

CHAPTER = ("06_losses", "Loss functions")
COVERS = (
    "MSE, MAE, Huber, binary and categorical cross-entropy with PyTorch's reductions, and the "
    "gradients of MSE, binary cross-entropy and softmax cross-entropy; a written answer on "
    "logarithm bases and robust losses"
)

IMPORTS = ["import numpy as np"]

INTRO = r"""
# Exercise 4: loss functions and their gradients

You implement the losses of the chapter *Loss functions* and three of their gradients.
The reductions are PyTorch's defaults, so your numbers compare directly with
`torch.nn.functional`: **the mean over all elements** for MSE, MAE, Huber and binary
cross-entropy, and **the mean over the batch** (the $N$ rows) for categorical
cross-entropy. Logarithms are natural logs (`np.log`). Every loss returns a single
number (a Python float or a NumPy scalar); every gradient has the shape of the
prediction it is taken with respect to.

Write each body where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
Calling `dlcourse` inside your functions earns no points. Run the next cell first.
"""

CELLS = [
    Markdown(r"""
## 1. Regression losses

With the errors $r_i = \hat y_i - y_i$ over all $n$ elements:

$$\mathrm{MSE} = \frac1n\sum_i r_i^2, \qquad \mathrm{MAE} = \frac1n\sum_i |r_i|, \qquad
\mathrm{Huber}_\delta = \frac1n\sum_i \begin{cases} \tfrac12 r_i^2 & |r_i| \le \delta \\
\delta\,(|r_i| - \tfrac12\delta) & |r_i| > \delta \end{cases}$$

(Some texts use $\frac{1}{2n}$ for MSE; here it is $\frac1n$, as in PyTorch.)
"""),
    Solution("mse", r'''
def mse(y_true, y_pred):
    """Mean squared error over all elements.

    Parameters
    ----------
    y_true, y_pred : ndarray, same shape (N,) or (N, D)

    Returns
    -------
    float
        mean((y_pred - y_true)**2)
    """
    ### BEGIN SOLUTION
    return np.mean((y_pred - y_true) ** 2)
    ### END SOLUTION
''', ["mse_matches_reference"]),
    Solution("mae", r'''
def mae(y_true, y_pred):
    """Mean absolute error over all elements.

    Parameters
    ----------
    y_true, y_pred : ndarray, same shape (N,) or (N, D)

    Returns
    -------
    float
        mean(|y_pred - y_true|)
    """
    ### BEGIN SOLUTION
    return np.mean(np.abs(y_pred - y_true))
    ### END SOLUTION
''', ["mae_matches_reference"]),
    Solution("huber", r'''
def huber(y_true, y_pred, delta=1.0):
    """Huber loss with threshold delta, mean over all elements.

    Parameters
    ----------
    y_true, y_pred : ndarray, same shape (N,) or (N, D)
    delta : float > 0

    Returns
    -------
    float
        mean of 0.5 r**2 where |r| <= delta and delta (|r| - 0.5 delta) elsewhere, r = y_pred - y_true
    """
    ### BEGIN SOLUTION
    r = np.abs(y_pred - y_true)
    per_element = np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
    return np.mean(per_element)
    ### END SOLUTION
''', ["huber_matches_reference"]),
    Markdown(r"""
## 2. Cross-entropy

Binary cross-entropy for labels $y_i \in \{0, 1\}$ (or soft targets in $[0, 1]$) and
predicted probabilities $p_i \in (0, 1)$, mean over all elements:

$$\mathrm{BCE} = -\frac1n \sum_i \bigl[y_i \ln p_i + (1 - y_i)\ln(1 - p_i)\bigr].$$

Categorical cross-entropy for one-hot (or probability) targets $Y$ and predicted
probabilities $P$, both `(N, K)`: sum over the classes, **mean over the samples**:

$$\mathrm{CCE} = -\frac1N \sum_{n=1}^{N}\sum_{k=1}^{K} Y_{nk}\ln P_{nk}.$$

The tested probabilities lie strictly between 0 and 1, so no clipping is needed.
"""),
    Solution("binary_cross_entropy", r'''
def binary_cross_entropy(y_true, p):
    """Binary cross-entropy with natural logs, mean over all elements.

    Parameters
    ----------
    y_true : ndarray, shape (N,) or (N, D), targets in [0, 1]
    p : ndarray, same shape, probabilities in (0, 1)

    Returns
    -------
    float
    """
    ### BEGIN SOLUTION
    return -np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
    ### END SOLUTION
''', ["bce_matches_reference"]),
    Solution("categorical_cross_entropy", r'''
def categorical_cross_entropy(Y, P):
    """Categorical cross-entropy: sum over classes, mean over the batch.

    Parameters
    ----------
    Y : ndarray, shape (N, K), one-hot or probability targets
    P : ndarray, shape (N, K), predicted probabilities (rows sum to 1)

    Returns
    -------
    float
        -sum(Y * log(P)) / N
    """
    ### BEGIN SOLUTION
    return -np.sum(Y * np.log(P)) / Y.shape[0]
    ### END SOLUTION
''', ["cce_matches_reference"]),
    Markdown(r"""
## 3. Gradients

Each gradient is taken with respect to the prediction and has its shape. The mean's
$\frac1n$ (or $\frac1N$) stays in the gradient.

$$\frac{\partial\,\mathrm{MSE}}{\partial \hat y_i} = \frac{2}{n}(\hat y_i - y_i), \qquad
\frac{\partial\,\mathrm{BCE}}{\partial p_i} = \frac1n\,\frac{p_i - y_i}{p_i(1 - p_i)}.$$

For softmax followed by categorical cross-entropy, the gradient with respect to the
**logits** $Z$ `(N, K)` (with $P = \mathrm{softmax}(Z)$ row by row) simplifies to

$$\frac{\partial\,\mathrm{CCE}}{\partial Z} = \frac{1}{N}(P - Y).$$

Compute the row-wise softmax stably (subtract each row's maximum).
"""),
    Solution("mse_gradient", r'''
def mse_gradient(y_true, y_pred):
    """Gradient of the MSE with respect to y_pred.

    Parameters
    ----------
    y_true, y_pred : ndarray, same shape

    Returns
    -------
    ndarray, shape of y_pred
        2 (y_pred - y_true) / y_pred.size
    """
    ### BEGIN SOLUTION
    return 2 * (y_pred - y_true) / y_pred.size
    ### END SOLUTION
''', ["mse_gradient_matches_reference"]),
    Solution("bce_gradient", r'''
def bce_gradient(y_true, p):
    """Gradient of the binary cross-entropy with respect to the probabilities p.

    Parameters
    ----------
    y_true, p : ndarray, same shape; p in (0, 1)

    Returns
    -------
    ndarray, shape of p
        (p - y_true) / (p (1 - p)) / p.size
    """
    ### BEGIN SOLUTION
    return (p - y_true) / (p * (1 - p)) / p.size
    ### END SOLUTION
''', ["bce_gradient_matches_reference"]),
    Solution("softmax_cross_entropy_gradient", r'''
def softmax_cross_entropy_gradient(Y, Z):
    """Gradient of the mean categorical cross-entropy of softmax(Z) with respect to the logits Z.

    Parameters
    ----------
    Y : ndarray, shape (N, K), one-hot targets
    Z : ndarray, shape (N, K), logits

    Returns
    -------
    ndarray, shape (N, K)
        (softmax(Z) - Y) / N, softmax taken over each row
    """
    ### BEGIN SOLUTION
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    return (P - Y) / Z.shape[0]
    ### END SOLUTION
''', ["softmax_ce_gradient_matches_reference"]),
    Written("log_base_answer", 2, r"""
## 4. Written answer: which logarithm, and which loss for outliers?

(a) A classifier gives the correct class probability 0.001. Some notes say its
cross-entropy is 3. What does your `categorical_cross_entropy` give, and where does the
difference come from? (b) Your regression data has a few wild outliers. Would you train
with MSE, MAE or Huber, and why?
""", r"""
(a) $-\ln 0.001 = 6.91$. The value 3 is $-\log_{10} 0.001$: those notes use base-10 logs,
which divide every loss by $\ln 10 \approx 2.30$. Losses (and their gradients) use the
natural log. (b) Huber (or MAE): MSE squares the errors, so a few outliers dominate the
loss and its gradient, which grows linearly with the error. Huber is quadratic for
small errors (smooth near the optimum) and linear beyond $\delta$, so each outlier's
gradient is bounded by $\delta$; MAE is robust too but its gradient has constant size,
even near the optimum.
"""),
]
