"""Content of ex03_derivatives: activation derivatives, SymPy, numerical gradients and backprop."""

from . import Given, Markdown, Solution, Written

CHAPTER = ("04_derivatives", "Derivatives and backpropagation")
COVERS = (
    "the derivatives of sigmoid and tanh (taking the pre-activation), a derivative computed "
    "with SymPy, a numerical gradient by central differences, and backpropagation through a "
    "two-layer network by hand; a written answer on vanishing gradients"
)

IMPORTS = ["import numpy as np", "import sympy as sp"]

INTRO = r"""
# Exercise 3: derivatives and backpropagation

Following the chapter *Derivatives and backpropagation*, you write the derivatives of two
activations, let SymPy differentiate for you, build a numerical gradient by central
differences, and finally compute every gradient of a small two-layer network by hand
(backpropagation), which you can check with your own numerical gradient.

Write each body where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
The test cell after each function names the first failing input and, where it can
confirm it, the likely cause; each call of your function may run 5 seconds.
Calling `dlcourse` inside your functions earns no points. Run the next cells first.
"""

CELLS = [
    Given("helpers", r'''
# Given helpers (read-only): a stable sigmoid and a row-wise softmax.
def sigmoid(z):
    """Logistic sigmoid without overflow (same dtype as z)."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(np.result_type(z, np.float32))


def softmax_rows(Z):
    """Softmax of each row of Z (N, K)."""
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
'''),
    Markdown(r"""
## 1. Derivatives of the activations

Each derivative takes the **pre-activation** $z$, the same input as the function:

$$\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr), \qquad \tanh'(z) = 1 - \tanh^2(z).$$

Some notes write `sigmoid_derivative(x) = x * (1 - x)`: that formula expects the
*activation* $a = \sigma(z)$, and feeding it $z$ is a classic bug. Keep the input's dtype.
"""),
    Solution("sigmoid_derivative", r'''
def sigmoid_derivative(z):
    """Derivative of the sigmoid with respect to its input z.

    Parameters
    ----------
    z : ndarray, shape (...), the pre-activation

    Returns
    -------
    ndarray, shape (...), same dtype as z
        sigmoid(z) * (1 - sigmoid(z))
    """
    ### BEGIN SOLUTION
    s = sigmoid(z)
    return s * (1 - s)
    ### END SOLUTION
''', ["sigmoid_derivative_matches_reference"]),
    Solution("tanh_derivative", r'''
def tanh_derivative(z):
    """Derivative of tanh with respect to its input z.

    Parameters
    ----------
    z : ndarray, shape (...), the pre-activation

    Returns
    -------
    ndarray, shape (...), same dtype as z
        1 - tanh(z)**2
    """
    ### BEGIN SOLUTION
    t = np.tanh(z)
    return 1 - t * t
    ### END SOLUTION
''', ["tanh_derivative_matches_reference"]),
    Markdown(r"""
## 2. Let SymPy differentiate

The chapter derives $\sigma'$ and $\tanh'$ with SymPy. Here you get an expression as a
string in the variable `x` (for example `"sin(x)*exp(x)"`). Turn it into a SymPy
expression (`sp.sympify`), differentiate it with respect to `x` (`sp.diff`), turn the
derivative into a NumPy function (`sp.lambdify(x, ..., "numpy")`) and evaluate it at
the points `z`. Return a float64 array of the shape of `z`.
"""),
    Solution("derivative_with_sympy", r'''
def derivative_with_sympy(expression, z):
    """Evaluate the derivative of a SymPy expression at the points z.

    Parameters
    ----------
    expression : str
        An expression in the variable x, e.g. "x**3 - 2*x".
    z : ndarray, shape (M,)

    Returns
    -------
    ndarray, shape (M,), float64
        d/dx expression, evaluated at each entry of z.
    """
    ### BEGIN SOLUTION
    x = sp.Symbol("x")
    derivative = sp.diff(sp.sympify(expression), x)
    f = sp.lambdify(x, derivative, "numpy")
    return np.asarray(f(z), dtype=np.float64)
    ### END SOLUTION
''', ["sympy_derivative_matches_reference"]),
    Markdown(r"""
## 3. Numerical gradient

For a function $f$ of an array $x$ that returns a number, the central difference
approximates each partial derivative:

$$\frac{\partial f}{\partial x_i} \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon}.$$

Visit every entry of `x` (any shape: `np.ndindex(x.shape)` gives every index). Work on a
float64 **copy** of `x`: the caller's array must be unchanged afterwards. Use the central
difference, not the one-sided $(f(x + \varepsilon e_i) - f(x))/\varepsilon$, whose error
is much larger.
"""),
    Solution("numerical_gradient", r'''
def numerical_gradient(f, x, eps=1e-6):
    """Gradient of a scalar function by central differences.

    Parameters
    ----------
    f : callable
        Takes an array of x's shape, returns a float.
    x : ndarray, shape (...)
        The point; not modified.
    eps : float
        The step.

    Returns
    -------
    ndarray, shape of x, float64
        (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every index i.
    """
    ### BEGIN SOLUTION
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f(x)
        x[idx] = old - eps
        f_minus = f(x)
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
    ### END SOLUTION
''', ["numerical_gradient_matches_reference"]),
    Markdown(r"""
## 4. Backpropagation through two layers

The network has a sigmoid hidden layer and a softmax output; the loss is the mean
cross-entropy over the $N$ samples (one-hot targets $Y$):

$$Z_1 = XW_1 + \mathbf{b}_1,\quad A_1 = \sigma(Z_1),\quad Z_2 = A_1W_2 + \mathbf{b}_2,\quad
P = \mathrm{softmax}(Z_2),\quad L = -\frac{1}{N}\sum_{n,k} Y_{nk}\ln P_{nk}.$$

Going backwards: $\partial L/\partial Z_2 = (P - Y)/N$; then
$\partial L/\partial W_2 = A_1^\top\,\partial L/\partial Z_2$,
$\partial L/\partial \mathbf{b}_2$ is its sum over the rows,
$\partial L/\partial A_1 = \partial L/\partial Z_2\, W_2^\top$,
$\partial L/\partial Z_1 = \partial L/\partial A_1 \odot \sigma'(Z_1)$ (with
$\sigma'(Z_1) = A_1(1 - A_1)$), and likewise for $W_1, \mathbf{b}_1$. The given
`two_layer_loss` lets you check your gradients with your `numerical_gradient`.
Each of the four gradients earns a share of the points. The check compares your
gradients with the reference to rounding (relative $10^{-11}$), which the chain rule
meets and a finite-difference estimate cannot: use `numerical_gradient` to test your
backward pass, not to compute it.
"""),
    Given("two_layer_loss", r'''
def two_layer_loss(X, Y, W1, b1, W2, b2):
    """Mean cross-entropy of the two-layer network (given, read-only)."""
    A1 = sigmoid(X @ W1 + b1)
    P = softmax_rows(A1 @ W2 + b2)
    return -np.sum(Y * np.log(P)) / X.shape[0]
'''),
    Solution("two_layer_backward", r'''
def two_layer_backward(X, Y, W1, b1, W2, b2):
    """Gradients of the mean cross-entropy of the two-layer network.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    Y : ndarray, shape (N, K), one-hot targets
    W1 : ndarray, shape (D, H)
    b1 : ndarray, shape (H,)
    W2 : ndarray, shape (H, K)
    b2 : ndarray, shape (K,)

    Returns
    -------
    dW1 : ndarray, shape (D, H)
    db1 : ndarray, shape (H,)
    dW2 : ndarray, shape (H, K)
    db2 : ndarray, shape (K,)
    """
    ### BEGIN SOLUTION
    N = X.shape[0]
    Z1 = X @ W1 + b1
    A1 = sigmoid(Z1)
    P = softmax_rows(A1 @ W2 + b2)
    dZ2 = (P - Y) / N
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2.T) * sigmoid_derivative(Z1)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return dW1, db1, dW2, db2
    ### END SOLUTION
''', ["backprop_matches_reference"]),
    Written("vanishing_answer", 2, r"""
## 5. Written answer: vanishing gradients

The largest value of $\sigma'(z)$ is $1/4$ (at $z = 0$). Use this to explain why, in a
deep network with sigmoid activations in every layer, the gradients of the first layers
tend to be tiny. Name one change that helps, and why.
""", r"""
Backpropagation multiplies one factor $\sigma'(z) \le 1/4$ per sigmoid layer (times the
weights). Through ten layers that alone is at most $4^{-10} \approx 10^{-6}$, and much
smaller for saturated units where $\sigma'(z) \approx 0$, so the first layers barely
learn. ReLU helps: its derivative is exactly 1 for positive inputs, so the product does
not shrink layer by layer (careful initialisation such as He/Xavier, batch
normalisation and residual connections help too).
"""),
]
