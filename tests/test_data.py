"""Data: the vendored digits against scikit-learn, seeded generators, splitting, scaling, batches."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse import data

GENERATORS = [
    lambda seed: data.moons(100, noise=0.1, seed=seed),
    lambda seed: data.circles(100, noise=0.05, seed=seed),
    lambda seed: data.spirals(150, n_classes=3, seed=seed),
    lambda seed: data.blobs(120, centers=4, seed=seed),
    lambda seed: data.make_classification(100, n_features=6, n_informative=2, n_classes=3, seed=seed),
]


def test_digits_equal_scikit_learns_load_digits():
    """Are the vendored digits exactly scikit-learn's load_digits (data, images and targets)?"""
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed")
    ref = sklearn_datasets.load_digits()
    X, y = data.digits()
    np.testing.assert_array_equal(X, ref.data)
    np.testing.assert_array_equal(y, ref.target)
    images, _ = data.digits(images=True)
    assert images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images[:, 0], ref.images)
    np.testing.assert_array_equal(data.digits(scale=True)[0], ref.data / 16)


def test_digits_returns_fresh_copies():
    """Can a caller modify the returned digits without changing the next call's data?"""
    X, y = data.digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = data.digits()
    assert X2.min() == 0 and y2.min() == 0


@pytest.mark.parametrize("name, expected", [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]),
                                            ("NAND", [1, 1, 1, 0]), ("xor", [0, 1, 1, 0])])
def test_logic_gates(name, expected):
    """Do the gates give their truth tables for inputs [0,0], [0,1], [1,0], [1,1]?"""
    X, y = data.logic_gate(name)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, expected)
    with pytest.raises(ValueError, match="name must be one of"):
        data.logic_gate("MAYBE")


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_are_seeded_and_balanced(make):
    """Does the same seed give the same data, another seed other data, with int labels of each class?"""
    X1, y1 = make(0)
    X2, y2 = make(0)
    X3, _ = make(1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.ndim == 2 and X1.shape[0] == y1.shape[0] and y1.dtype.kind == "i"
    counts = np.bincount(y1)
    assert counts.min() > 0 and counts.max() - counts.min() <= max(2, 0.2 * counts.max())


def test_geometry_of_moons_and_circles():
    """Without noise, do circles lie on radii 1 and factor, and moons on unit half circles?"""
    X, y = data.circles(40, noise=0.0, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.3))
    X, y = data.moons(40, noise=0.0, seed=0)
    centre = np.where(y[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    np.testing.assert_allclose(np.hypot(*(X - centre).T), 1.0)


def test_train_test_split_partitions_and_stratifies(rng):
    """Is every sample in exactly one part, the test size right, and the class shares kept?"""
    X = np.arange(200).reshape(100, 2)
    y = np.repeat([0, 1, 2, 3], [10, 20, 30, 40])
    X_tr, X_te, y_tr, y_te = data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    assert len(X_te) == 20 and len(X_tr) == 80
    np.testing.assert_array_equal(np.sort(np.r_[X_tr[:, 0], X_te[:, 0]]), X[:, 0])
    np.testing.assert_array_equal(np.bincount(y_te), [2, 4, 6, 8])
    np.testing.assert_array_equal(y[X_tr[:, 0] // 2], y_tr)  # rows stay paired
    again = data.train_test_split(X, y, test_size=0.2, seed=0, stratify=True)
    np.testing.assert_array_equal(again[1], X_te)
    with pytest.raises(ValueError, match="same number of samples"):
        data.train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, y, test_size=1.5)


def test_standardize_uses_training_statistics_only(rng):
    """Is the training split scaled to mean 0, std 1, and the test split with the training statistics?"""
    X_tr, X_te = rng.normal(5, 3, size=(50, 3)), rng.normal(-2, 1, size=(20, 3))
    X_tr[:, 2] = 7.0  # a constant feature keeps scale 1
    A, B = data.standardize(X_tr, X_te)
    np.testing.assert_allclose(A[:, :2].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(A[:, :2].std(axis=0), 1)
    np.testing.assert_allclose(A[:, 2], 0)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    np.testing.assert_allclose(B[:, :2], (X_te[:, :2] - mean[:2]) / std[:2])
    s = data.Standardizer().fit(X_tr)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X_te)), X_te)
    with pytest.raises(ValueError, match="per-sample shape"):
        s.transform(X_te[:, :2])


def test_one_hot(rng):
    """Does one_hot put a single 1 in column y[n] of row n (checked against np.eye)?"""
    y = rng.integers(0, 5, size=30)
    np.testing.assert_array_equal(data.one_hot(y, 5), np.eye(5)[y])
    assert data.one_hot(np.array([0, 2])).shape == (2, 3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="integer labels"):
        data.one_hot(np.array([0.5, 1.0]))


def test_minibatches_cover_every_sample_once_with_seeded_order(rng):
    """Does one pass of minibatches visit each sample once, in a seeded order, rows paired?"""
    X, y = np.arange(23)[:, None] * 1.0, np.arange(23)
    batches = list(data.minibatches(X, y, batch_size=5, seed=0))
    assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(np.sort(seen), y)
    assert not np.array_equal(seen, y)  # shuffled
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)
    again = np.concatenate([b[1] for b in data.minibatches(X, y, batch_size=5, seed=0)])
    np.testing.assert_array_equal(seen, again)
    assert len(list(data.minibatches(X, batch_size=5, drop_last=True, shuffle=False))) == 4


@pytest.mark.parametrize("dx, dy", [(0, 0), (1, 0), (-1, 0), (0, 2), (-2, -1), (3, 1)])
def test_shift_images_is_a_roll_with_zeros_coming_in(dx, dy):
    """Is shift_images np.roll with the wrapped rows and columns set to zero, on every image and channel?"""
    rng = np.random.default_rng(abs(dx * 10 + dy))
    X = rng.random((3, 2, 5, 6))
    expected = np.roll(X, (dy, dx), axis=(-2, -1))
    if dy > 0:
        expected[..., :dy, :] = 0
    elif dy < 0:
        expected[..., dy:, :] = 0
    if dx > 0:
        expected[..., :, :dx] = 0
    elif dx < 0:
        expected[..., :, dx:] = 0
    got = data.shift_images(X, dx, dy)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == X.dtype and not np.shares_memory(got, X)


def test_random_shifts_appends_shifted_copies_with_their_labels():
    """Are the augmented images the originals then copies, each a shift of its source within max_shift?"""
    from dlcourse.data import digits

    X, y = digits(images=True, scale=True)
    X, y = X[:50], y[:50]
    Xa, ya = data.random_shifts(X, y, max_shift=1, copies=2, seed=3)
    assert Xa.shape == (150, 1, 8, 8) and list(ya) == list(y) * 3
    np.testing.assert_array_equal(Xa[:50], X)
    moved = 0
    for k in range(50, 150):
        src = X[k % 50]
        options = [data.shift_images(src, dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        assert any(np.array_equal(Xa[k], o) for o in options), k
        moved += not np.array_equal(Xa[k], src)
    assert moved > 50  # 8 of the 9 shifts move the image
    again, _ = data.random_shifts(X, y, max_shift=1, copies=2, seed=3)
    np.testing.assert_array_equal(again, Xa)


def test_shift_errors_name_what_was_wrong():
    """Do bad shifts, flat inputs and mismatched labels get errors that say what was expected?"""
    with pytest.raises(ValueError, match="whole pixels smaller than the image"):
        data.shift_images(np.zeros((2, 4, 4)), 4, 0)
    with pytest.raises(ValueError, match="whole pixels"):
        data.shift_images(np.zeros((2, 4, 4)), 0.5, 0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        data.shift_images(np.zeros(5), 1, 0)
    with pytest.raises(ValueError, match="one label per image"):
        data.random_shifts(np.zeros((3, 4, 4)), np.zeros(2))
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        data.random_shifts(np.zeros((3, 4, 4)), np.zeros(3), max_shift=-1)
