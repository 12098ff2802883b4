"""Content of ex02_mlp: stable activations, softmax, a dense layer and a two-layer forward pass."""

from . import Markdown, Solution, Written

CHAPTER = ("03_mlp", "Multi-layer perceptrons")
COVERS = (
    "numerically stable sigmoid and softmax (their values checked at inputs up to 1e4 and beyond), "
    "tanh, ReLU, a dense layer and the forward pass of a two-layer network; a written answer on"
    " why the hidden layer needs a non-linearity"
)

IMPORTS = ["import numpy as np"]

INTRO = r"""
# Exercise 2: the multi-layer perceptron, forward

You implement the activation functions of the chapter *Multi-layer perceptrons* (sigmoid,
tanh, ReLU, softmax), a dense layer and the forward pass of a two-layer network, all in
NumPy. Two checks are about **numerical stability**: your sigmoid and softmax must give
the right values for inputs as large as $\pm 10^4$ (and larger ones the grader draws),
also where the answer is a tiny number such as $\sigma(-730) \approx 10^{-317}$.

Write each body where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
Keep the input's dtype (float32 in, float32 out) unless a docstring says otherwise.
The test cell after each function names the first failing input and, where it can
confirm it, the likely cause; each call of your function may run 5 seconds.
Calling `dlcourse` inside your functions earns no points. Run the next cell first.
"""

CELLS = [
    Markdown(r"""
## 1. Sigmoid, stable

$$\sigma(z) = \frac{1}{1 + e^{-z}}$$

The direct formula overflows: `np.exp(-z)` is `inf` for $z = -10^4$, with a
`RuntimeWarning`. Rewrite it so that every exponent is $\le 0$: with $e = e^{-|z|}$,
$\sigma(z) = 1/(1 + e)$ for $z \ge 0$ and $e/(1 + e)$ for $z < 0$. Beware that
`np.where(cond, a, b)` computes both `a` and `b` for every element, so build both
branches from $e^{-|z|}$. Two tests: the values (moderate inputs) and the stability
(inputs up to $\pm 10^4$: the values are judged, so silencing the warning does not help).
"""),
    Solution("sigmoid", r'''
def sigmoid(z):
    """Logistic sigmoid, element-wise, without overflow.

    Parameters
    ----------
    z : ndarray, shape (...), float32 or float64

    Returns
    -------
    ndarray, shape (...), same dtype as z
        1 / (1 + exp(-z)), computed from exp(-|z|).
    """
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype)
    ### END SOLUTION
''', ["sigmoid_matches_reference", "sigmoid_is_stable"]),
    Markdown(r"""
## 2. tanh and ReLU

$\tanh$ is a scaled and shifted sigmoid: $\tanh(z) = 2\sigma(2z) - 1$. Implement it
with that identity and your `sigmoid`, or with exponentials (moderate inputs only are
tested here). ReLU is $\max(0, z)$ element-wise: that is `np.maximum`, not `np.max`.
"""),
    Solution("tanh", r'''
def tanh(z):
    """Hyperbolic tangent, element-wise.

    Parameters
    ----------
    z : ndarray, shape (...), float32 or float64

    Returns
    -------
    ndarray, shape (...), same dtype as z
        (exp(z) - exp(-z)) / (exp(z) + exp(-z)) = 2 sigmoid(2 z) - 1
    """
    ### BEGIN SOLUTION
    return (2 * sigmoid(2 * z) - 1).astype(z.dtype)
    ### END SOLUTION
''', ["tanh_matches_reference"]),
    Solution("relu", r'''
def relu(z):
    """Rectified linear unit, element-wise.

    Parameters
    ----------
    z : ndarray, shape (...)

    Returns
    -------
    ndarray, shape (...), same dtype as z
        max(0, z); the input array is not changed.
    """
    ### BEGIN SOLUTION
    return np.maximum(z, 0).astype(z.dtype)
    ### END SOLUTION
''', ["relu_matches_reference"]),
    Markdown(r"""
## 3. Softmax over each row

For logits $Z$ of shape `(N, K)` (one sample per row), softmax turns each row into a
probability distribution:

$$\mathrm{softmax}(Z)_{nk} = \frac{e^{Z_{nk} - m_n}}{\sum_j e^{Z_{nj} - m_n}}, \qquad m_n = \max_j Z_{nj}.$$

Subtracting each row's maximum changes nothing mathematically and keeps every exponent
$\le 0$, so nothing overflows. Reduce along `axis=1` with `keepdims=True`: every row
must sum to 1 (a common bug normalises over the whole batch or the wrong axis).
"""),
    Solution("softmax", r'''
def softmax(Z):
    """Row-wise softmax, stable for large logits.

    Parameters
    ----------
    Z : ndarray, shape (N, K), float32 or float64

    Returns
    -------
    ndarray, shape (N, K), same dtype as Z
        Each row is exp(Z[n] - max(Z[n])) / sum(exp(Z[n] - max(Z[n]))).
    """
    ### BEGIN SOLUTION
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=1, keepdims=True)
    ### END SOLUTION
''', ["softmax_matches_reference", "softmax_is_stable"]),
    Markdown(r"""
## 4. A dense layer and a two-layer network

A dense (fully connected) layer maps $X$ `(N, D)` to $XW + \mathbf{b}$ `(N, K)` with
weights $W$ of shape `(D, K)` and bias $\mathbf{b}$ of shape `(K,)` (added to every row
by broadcasting). The network of this exercise is

$$P = \mathrm{softmax}\bigl(\mathrm{ReLU}(X W_1 + \mathbf{b}_1)\, W_2 + \mathbf{b}_2\bigr).$$

Build `mlp_forward` from your `dense_forward`, `relu` and `softmax`.
"""),
    Solution("dense_forward", r'''
def dense_forward(X, W, b):
    """Forward pass of a dense layer.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    W : ndarray, shape (D, K)
    b : ndarray, shape (K,)

    Returns
    -------
    ndarray, shape (N, K)
        X @ W + b
    """
    ### BEGIN SOLUTION
    return X @ W + b
    ### END SOLUTION
''', ["dense_forward_matches_reference"]),
    Solution("mlp_forward", r'''
def mlp_forward(X, W1, b1, W2, b2):
    """Class probabilities of a two-layer network with a ReLU hidden layer.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    W1 : ndarray, shape (D, H)
    b1 : ndarray, shape (H,)
    W2 : ndarray, shape (H, K)
    b2 : ndarray, shape (K,)

    Returns
    -------
    ndarray, shape (N, K)
        softmax(relu(X @ W1 + b1) @ W2 + b2); each row sums to 1.
    """
    ### BEGIN SOLUTION
    hidden = relu(dense_forward(X, W1, b1))
    return softmax(dense_forward(hidden, W2, b2))
    ### END SOLUTION
''', ["mlp_forward_matches_reference"]),
    Written("nonlinearity_answer", 2, r"""
## 5. Written answer: why a non-linear hidden layer?

Suppose `mlp_forward` used no activation in the hidden layer (the identity instead of
ReLU). Show that the network would then compute the same class probabilities as a
network with **no hidden layer** (give its weights and bias in terms of
$W_1, \mathbf{b}_1, W_2, \mathbf{b}_2$), and say what that means for a problem like XOR.
""", r"""
Without an activation the logits are $(XW_1 + \mathbf{b}_1)W_2 + \mathbf{b}_2 =
X(W_1W_2) + (\mathbf{b}_1W_2 + \mathbf{b}_2)$, a single dense layer with
$W = W_1W_2$ (shape D x K) and $\mathbf{b} = \mathbf{b}_1W_2 + \mathbf{b}_2$. Stacking
linear layers stays linear, so the decision boundaries are still hyperplanes and the
network cannot separate XOR. The non-linearity between the layers is what lets the
hidden units bend the boundary.
"""),
]
