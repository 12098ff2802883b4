from . import correct, mistake

SIZE, CONV, POOL, POOLB, DW = ("conv_output_size_matches_reference", "conv2d_forward_matches_reference",
                               "max_pool_forward_matches_reference", "max_pool_backward_matches_reference",
                               "conv_backward_weights_matches_reference")
CONV_LOOP = '''
def conv2d_forward(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho = (H + 2 * padding - {kh}) // stride + 1
    Wo = (W + 2 * padding - {kw}) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
            out[:, :, i, j] = np.tensordot(win, {kernel}, axes=([1, 2, 3], [1, 2, 3])){bias}
    return out
'''
POOL_LOOP = '''
def max_pool_forward(x, size=2, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - size) // {sh} + 1, (W - size) // {sw} + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * {sh}:i * {sh} + size, j * {sw}:j * {sw} + size].{red}(axis=(2, 3))
    return out
'''
POOLB_LOOP = '''
def max_pool_backward(dout, x, size=2, stride=2):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * {s}:i * {s} + size, j * {s}:j * {s} + size]
                    u, v = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * {s} + u, j * {s} + v] {op} dout[n, c, i, j]
    return dx
'''
DW_LOOP = '''
def conv2d_backward_weights(dout, x, w_shape, stride=1, padding=0):
    F, C, KH, KW = w_shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dw = np.zeros(w_shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = xp[:, :, i * stride:i * stride + {kh}, j * stride:j * stride + {kw}]
            dw += np.tensordot(dout[:, :, i, j], win, axes=([0], [0]))
    return dw{flip}
'''
ENTRIES = [
    mistake(SIZE, "+1 missing", "def conv_output_size(n, k, stride=1, padding=0):\n    return (n + 2 * padding - k) // stride",
            "+1 missing"),
    mistake(SIZE, "padding once", "def conv_output_size(n, k, stride=1, padding=0):\n    return (n + padding - k) // stride + 1",
            "padding once"),
    mistake(SIZE, "rounded up", "import math\ndef conv_output_size(n, k, stride=1, padding=0):\n"
            "    return math.ceil((n + 2 * padding - k) / stride) + 1", "rounded up"),
    mistake(SIZE, "true division", "def conv_output_size(n, k, stride=1, padding=0):\n    return (n + 2 * padding - k) / stride + 1",
            None, "use //"),
    correct(SIZE, "int of floor", "import math\ndef conv_output_size(n, k, stride=1, padding=0):\n"
            "    return int(math.floor((n + 2 * padding - k) / stride)) + 1"),
    mistake(CONV, "kernel flipped", CONV_LOOP.format(kh="KH", kw="KW", kernel="w[:, :, ::-1, ::-1]", bias=" + b"),
            "kernel flipped"),
    mistake(CONV, "bias missing", CONV_LOOP.format(kh="KH", kw="KW", kernel="w", bias=""), "bias missing"),
    mistake(CONV, "KH used for both sides", CONV_LOOP.format(kh="KH", kw="KH", kernel="w", bias=" + b"), None),
    mistake(CONV, "padding ignored", CONV_LOOP.format(kh="KH", kw="KW", kernel="w", bias=" + b").replace(
        "(padding, padding), (padding, padding)", "(0, 0), (0, 0)"), None),
    correct(CONV, "einsum over windows", CONV_LOOP.format(kh="KH", kw="KW", kernel="w", bias=" + b").replace(
        "np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3]))", "np.einsum('nchw,fchw->nf', win, w)")),
    mistake(POOL, "average pooling", POOL_LOOP.format(sh="stride", sw="stride", red="mean"), "average pooling"),
    mistake(POOL, "stride taken as the window size", POOL_LOOP.format(sh="size", sw="size", red="max"), None),
    mistake(POOL, "H used for the width", POOL_LOOP.format(sh="stride", sw="stride", red="max").replace(
        "(W - size) //", "(H - size) //"), None),
    correct(POOL, "max of a strided view", "def max_pool_forward(x, size=2, stride=2):\n"
            "    v = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))\n"
            "    return v[:, :, ::stride, ::stride].max(axis=(4, 5))"),
    mistake(POOLB, "assigned, not added", POOLB_LOOP.format(s="stride", op="="), "overwritten where windows overlap"),
    mistake(POOLB, "spread evenly", "def max_pool_backward(dout, x, size=2, stride=2):\n    dx = np.zeros_like(x)\n"
            "    for i in range(dout.shape[2]):\n        for j in range(dout.shape[3]):\n"
            "            dx[:, :, i*stride:i*stride+size, j*stride:j*stride+size] += dout[:, :, i:i+1, j:j+1] / size**2\n"
            "    return dx", "spread evenly"),
    mistake(POOLB, "stride ignored", POOLB_LOOP.format(s="size", op="+="), None),
    correct(POOLB, "mask of the maximum", "def max_pool_backward(dout, x, size=2, stride=2):\n    dx = np.zeros_like(x)\n"
            "    for i in range(dout.shape[2]):\n        for j in range(dout.shape[3]):\n"
            "            win = x[:, :, i*stride:i*stride+size, j*stride:j*stride+size]\n"
            "            flat = win.reshape(win.shape[0], win.shape[1], -1)\n"
            "            mask = np.arange(flat.shape[2]) == flat.argmax(axis=2)[..., None]\n"
            "            dx[:, :, i*stride:i*stride+size, j*stride:j*stride+size] += "
            "mask.reshape(win.shape) * dout[:, :, i:i+1, j:j+1]\n    return dx"),
    mistake(DW, "kernel flipped", DW_LOOP.format(kh="KH", kw="KW", flip="[:, :, ::-1, ::-1]"), "kernel flipped"),
    mistake(DW, "KH and KW swapped", DW_LOOP.format(kh="KW", kw="KH", flip=""), "two axes swapped"),
    correct(DW, "einsum", DW_LOOP.format(kh="KH", kw="KW", flip="").replace(
        "np.tensordot(dout[:, :, i, j], win, axes=([0], [0]))", "np.einsum('nf,nchw->fchw', dout[:, :, i, j], win)")),
]
