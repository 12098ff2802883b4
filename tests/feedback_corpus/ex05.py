from . import correct, mistake

SGD, MOM, RMS, ADAM, COS = ("sgd_step_matches_reference", "momentum_step_matches_reference",
                            "rmsprop_step_matches_reference", "adam_step_matches_reference",
                            "cosine_schedule_matches_reference")
ENTRIES = [
    mistake(SGD, "ascent", "def sgd_step(w, grad, lr):\n    return w + lr * grad", "wrong direction"),
    mistake(SGD, "in place", "def sgd_step(w, grad, lr):\n    w -= lr * grad\n    return w", "input mutated in place"),
    mistake(SGD, "lr ignored", "def sgd_step(w, grad, lr):\n    return w - 0.1 * grad", None),
    correct(SGD, "np.subtract", "def sgd_step(w, grad, lr):\n    return np.subtract(w, np.multiply(lr, grad))"),
    mistake(MOM, "lr inside the velocity", "def momentum_step(w, grad, velocity, lr, momentum):\n"
            "    v = momentum * velocity + lr * grad\n    return w - v, v", "lr inside the velocity"),
    mistake(MOM, "dampening", "def momentum_step(w, grad, velocity, lr, momentum):\n"
            "    v = momentum * velocity + (1 - momentum) * grad\n    return w - lr * v, v", "dampening"),
    mistake(MOM, "old velocity in the update", "def momentum_step(w, grad, velocity, lr, momentum):\n"
            "    return w - lr * velocity, momentum * velocity + grad", None),
    correct(MOM, "nesterov-free written out", "def momentum_step(w, grad, velocity, lr, momentum):\n"
            "    v = np.add(np.multiply(momentum, velocity), grad)\n    return w - lr * v, v"),
    mistake(RMS, "eps inside the sqrt", "def rmsprop_step(w, grad, sq_avg, lr, alpha=0.99, eps=1e-8):\n"
            "    s = alpha * sq_avg + (1 - alpha) * grad**2\n    return w - lr * grad / np.sqrt(s + eps), s",
            "epsilon inside the square root"),
    mistake(RMS, "(1 - alpha) missing", "def rmsprop_step(w, grad, sq_avg, lr, alpha=0.99, eps=1e-8):\n"
            "    s = alpha * sq_avg + grad**2\n    return w - lr * grad / (np.sqrt(s) + eps), s", "(1 - alpha) missing"),
    mistake(RMS, "old average in the update", "def rmsprop_step(w, grad, sq_avg, lr, alpha=0.99, eps=1e-8):\n"
            "    s = alpha * sq_avg + (1 - alpha) * grad**2\n    return w - lr * grad / (np.sqrt(sq_avg) + eps), s", None),
    correct(RMS, "power 0.5", "def rmsprop_step(w, grad, sq_avg, lr, alpha=0.99, eps=1e-8):\n"
            "    s = sq_avg * alpha + grad * grad * (1 - alpha)\n    return w - lr * grad / (s ** 0.5 + eps), s"),
    mistake(ADAM, "no bias correction", "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad**2\n"
            "    return w - lr * m / (np.sqrt(v) + eps), m, v", "bias correction missing"),
    mistake(ADAM, "eps inside", "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad**2\n"
            "    return w - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps), m, v",
            "epsilon inside the square root"),
    mistake(ADAM, "efficient form with plain eps", "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad**2\n"
            "    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)\n    return w - lr_t * m / (np.sqrt(v) + eps), m, v",
            "efficient form"),
    mistake(ADAM, "t + 1 in the correction", "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad**2\n"
            "    mh, vh = m / (1 - beta1**(t + 1)), v / (1 - beta2**(t + 1))\n    return w - lr * mh / (np.sqrt(vh) + eps), m, v",
            None),
    correct(ADAM, "efficient form with eps_hat", "def adam_step(w, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    m = beta1 * m + (1 - beta1) * grad\n    v = beta2 * v + (1 - beta2) * grad**2\n"
            "    c2 = np.sqrt(1 - beta2**t)\n    lr_t = lr * c2 / (1 - beta1**t)\n"
            "    return w - lr_t * m / (np.sqrt(v) + eps * c2), m, v"),
    mistake(COS, "half missing", "import math\ndef cosine_lr(epoch, lr_max, lr_min, T_max):\n"
            "    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * epoch / T_max))", "half missing"),
    mistake(COS, "degrees", "import math\ndef cosine_lr(epoch, lr_max, lr_min, T_max):\n"
            "    return lr_min + (lr_max - lr_min) * (1 + math.cos(epoch / T_max)) / 2", "pi missing"),
    mistake(COS, "clamped at T_max", "import math\ndef cosine_lr(epoch, lr_max, lr_min, T_max):\n"
            "    e = min(epoch, T_max)\n    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * e / T_max)) / 2", None),
    correct(COS, "numpy cos", "def cosine_lr(epoch, lr_max, lr_min, T_max):\n"
            "    return float(lr_min + 0.5 * (lr_max - lr_min) * (1 + np.cos(np.pi * epoch / T_max)))"),
]
