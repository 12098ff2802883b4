"""Content of ex06_cnn: output size, naive convolution, max pooling and the weight gradient."""

from . import Markdown, Solution, Written

CHAPTER = ("09_cnn", "Convolutional networks")
COVERS = (
    "the output size of a convolution, a naive convolution (cross-correlation) forward pass, "
    "max pooling forward and backward, and the gradient of a convolution with respect to its "
    "kernels; a written answer on parameter counts"
)

IMPORTS = ["import numpy as np"]

INTRO = r"""
# Exercise 6: convolutional layers

You implement the building blocks of the chapter *Convolutional networks* with plain
loops over output positions (readable first, fast later): the output size of a
convolution, a naive convolution forward pass, max pooling forward and backward, and
the gradient of a convolution with respect to its kernels. Images are **NCHW**
(batch, channels, height, width) as in PyTorch; kernels are `(F, C, KH, KW)`.

A CNN's "convolution" is a **cross-correlation**: the kernel is *not* flipped.

Write each body where it says `YOUR CODE HERE` (delete the `raise NotImplementedError()`).
Calling `dlcourse` inside your functions earns no points. Run the next cell first.
"""

CELLS = [
    Markdown(r"""
## 1. Output size

Along one axis, an input of $n$ pixels, a kernel of $k$, stride $s$ and zero padding $p$
(on **both** sides) give

$$n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .$$

Return a Python `int` (use `//`).
"""),
    Solution("conv_output_size", r'''
def conv_output_size(n, k, stride=1, padding=0):
    """Number of output positions along one axis.

    Parameters
    ----------
    n, k, stride, padding : int

    Returns
    -------
    int
        (n + 2 padding - k) // stride + 1
    """
    ### BEGIN SOLUTION
    return (n + 2 * padding - k) // stride + 1
    ### END SOLUTION
''', ["conv_output_size_matches_reference"]),
    Markdown(r"""
## 2. Convolution forward, naive

For input $x$ `(N, C, H, W)`, kernels $w$ `(F, C, KH, KW)` and bias $b$ `(F,)`, pad $x$
with $p$ zeros on every side (`np.pad`), then for every output position

$$\mathrm{out}[n, f, i, j] = b_f + \sum_{c, u, v} x_\text{pad}[n, c, iS + u, jS + v]\; w[f, c, u, v].$$

The output has shape `(N, F, H_out, W_out)`; use your `conv_output_size`.
"""),
    Solution("conv2d_forward", r'''
def conv2d_forward(x, w, b, stride=1, padding=0):
    """Naive 2-D convolution (cross-correlation) forward pass.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, KH, KW)
    b : ndarray, shape (F,)
    stride, padding : int

    Returns
    -------
    ndarray, shape (N, F, H_out, W_out)
        H_out = (H + 2 padding - KH) // stride + 1, likewise W_out.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = conv_output_size(H, KH, stride, padding)
    W_out = conv_output_size(W, KW, stride, padding)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out
    ### END SOLUTION
''', ["conv2d_forward_matches_reference"]),
    Markdown(r"""
## 3. Max pooling

Max pooling with a `size` x `size` window and stride `stride` (no padding) keeps each
window's maximum, per sample and channel. Backwards, each entry of `dout` goes to the
position of its window's maximum in `x` (the other positions did not affect the output,
so their gradient is 0); where windows overlap, contributions add up. The test inputs
have no ties.
"""),
    Solution("max_pool_forward", r'''
def max_pool_forward(x, size=2, stride=2):
    """Max pooling forward pass.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    size, stride : int

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out)
        H_out = (H - size) // stride + 1, likewise W_out.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    H_out = (H - size) // stride + 1
    W_out = (W - size) // stride + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + size, j * stride:j * stride + size]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out
    ### END SOLUTION
''', ["max_pool_forward_matches_reference"]),
    Solution("max_pool_backward", r'''
def max_pool_backward(dout, x, size=2, stride=2):
    """Max pooling backward pass.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
    x : ndarray, shape (N, C, H, W), the forward input
    size, stride : int

    Returns
    -------
    ndarray, shape (N, C, H, W)
        dx: each dout entry added at the position of its window's maximum.
    """
    ### BEGIN SOLUTION
    dx = np.zeros_like(x)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + size, j * stride:j * stride + size]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + u, j * stride + v] += dout[n, c, i, j]
    return dx
    ### END SOLUTION
''', ["max_pool_backward_matches_reference"]),
    Markdown(r"""
## 4. The gradient with respect to the kernels

Each kernel weight touched, at every output position, the input pixel under it, so

$$\frac{\partial L}{\partial w[f, c, u, v]} = \sum_{n, i, j} \mathrm{dout}[n, f, i, j]\; x_\text{pad}[n, c, iS + u, jS + v].$$

Sum over the batch (no mean). `w_shape` is the kernel's shape `(F, C, KH, KW)`.
"""),
    Solution("conv2d_backward_weights", r'''
def conv2d_backward_weights(dout, x, w_shape, stride=1, padding=0):
    """Gradient of a convolution with respect to its kernels.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
    x : ndarray, shape (N, C, H, W), the forward input
    w_shape : tuple (F, C, KH, KW)
    stride, padding : int

    Returns
    -------
    ndarray, shape (F, C, KH, KW)
        dw
    """
    ### BEGIN SOLUTION
    F, C, KH, KW = w_shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dw = np.zeros(w_shape, dtype=x.dtype)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x_pad[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
    return dw
    ### END SOLUTION
''', ["conv_backward_weights_matches_reference"]),
    Written("parameter_count_answer", 2, r"""
## 5. Written answer: why convolutions?

A grey 28 x 28 image goes into (a) a dense layer with 32 outputs and (b) a convolution
with 32 kernels of 3 x 3 (padding 1). Count the parameters (weights and biases) of each
and name two properties of the convolution that explain the difference and why they
suit images.
""", r"""
(a) Dense: 784 x 32 weights + 32 biases = 25,120 parameters. (b) Convolution:
32 x 1 x 3 x 3 weights + 32 biases = 320 parameters. Local connectivity: each output
looks at a 3 x 3 neighbourhood, where the informative structure of images (edges,
corners) lives. Weight sharing: the same kernel slides over every position, so a
feature detector learnt in one place works everywhere (translation equivariance) and
the count does not grow with the image size.
"""),
]
