"""Colour images: the PNG codec against Pillow and itself, the bilinear resize against PyTorch,
the folder loader, per-channel normalisation and the colour augmentations."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from dlcourse import data
from dlcourse.data import augment, images

FILTERS = ("none", "sub", "up", "average", "paeth", "cycle", 0, 1, 2, 3, 4)


def _random_image(channels: int, h: int = 7, w: int = 9, seed: int = 0) -> np.ndarray:
    img = np.random.default_rng(seed).integers(0, 256, (h, w, channels), dtype=np.uint8)
    return img[:, :, 0] if channels == 1 else img


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_type", FILTERS)
def test_png_round_trip_every_filter(tmp_path, channels, filter_type):
    """Does read_png return exactly what write_png wrote, for every row filter and colour type?"""
    img = _random_image(channels, seed=channels)
    path = images.write_png(tmp_path / "a.png", img, filter_type=filter_type)
    back = images.read_png(path)
    assert back.dtype == np.uint8 and back.shape == (7, 9, channels)
    np.testing.assert_array_equal(back.reshape(img.shape), img)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("filter_type", ["none", "sub", "up", "average", "paeth", "cycle"])
def test_png_writer_agrees_with_pillow(tmp_path, channels, filter_type):
    """Does Pillow decode our files to the same pixels (so the writer follows the PNG standard)?"""
    Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    img = _random_image(channels, seed=10 + channels)
    path = images.write_png(tmp_path / "a.png", img, filter_type=filter_type)
    np.testing.assert_array_equal(np.asarray(Image.open(path)).reshape(img.shape), img)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_reader_decodes_pillows_files(tmp_path, channels):
    """Does read_png decode PNGs written by Pillow (its own, adaptive choice of row filters)?"""
    Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    yy, xx = np.mgrid[0:23, 0:31]
    smooth = np.stack([(xx * 8) % 256, (yy * 11) % 256, (xx * yy) % 256, (xx + yy) % 256], axis=-1)
    img = (smooth[:, :, :channels] + _random_image(4, 23, 31)[:, :, :channels] // 16).astype(np.uint8)
    img = img[:, :, 0] if channels == 1 else img
    Image.fromarray(img).save(tmp_path / "p.png", optimize=True)
    np.testing.assert_array_equal(images.read_png(tmp_path / "p.png").reshape(img.shape), img)


def test_png_reader_agrees_with_matplotlib_on_drawn_shape(tmp_path):
    """Does matplotlib's imread (floats in [0, 1]) read our drawn image as read_png does?"""
    plt_image = pytest.importorskip("matplotlib.image")
    img = images.draw_shape("cross", 30, seed=1)
    path = images.write_png(tmp_path / "c.png", img, filter_type="cycle")
    np.testing.assert_allclose(plt_image.imread(path)[:, :, :3] * 255, images.read_png(path), atol=1e-4)


def test_png_reader_rejects_bad_input_with_clear_errors(tmp_path):
    """Are non-PNG files, corrupt CRCs, huge dimensions and unsupported kinds refused with clear messages?"""
    (tmp_path / "x.png").write_bytes(b"GIF89a not a png at all")
    with pytest.raises(ValueError, match="not a PNG"):
        images.read_png(tmp_path / "x.png")
    good = images.write_png(tmp_path / "g.png", _random_image(3)).read_bytes()
    corrupt = bytearray(good)
    corrupt[20] ^= 0xFF                     # inside IHDR: CRC no longer matches
    (tmp_path / "c.png").write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match="CRC"):
        images.read_png(tmp_path / "c.png")

    def png(width, height, depth=8, colour=2, interlace=0, payload=b""):
        def chunk(kind, body):
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
        return images.PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(payload)) + chunk(b"IEND", b"")

    (tmp_path / "huge.png").write_bytes(png(100_000, 100_000))
    with pytest.raises(ValueError, match="max_side"):
        images.read_png(tmp_path / "huge.png")
    (tmp_path / "d16.png").write_bytes(png(2, 2, depth=16))
    with pytest.raises(ValueError, match="bit depth 16"):
        images.read_png(tmp_path / "d16.png")
    (tmp_path / "pal.png").write_bytes(png(2, 2, colour=3))
    with pytest.raises(ValueError, match="colour type 3"):
        images.read_png(tmp_path / "pal.png")
    (tmp_path / "int.png").write_bytes(png(2, 2, interlace=1))
    with pytest.raises(ValueError, match="interlaced"):
        images.read_png(tmp_path / "int.png")
    (tmp_path / "short.png").write_bytes(png(4, 4, payload=b"\x00" * 5))
    with pytest.raises(ValueError, match="needs"):
        images.read_png(tmp_path / "short.png")
    bomb = b"\x00" + b"\x00" * 12
    (tmp_path / "bomb.png").write_bytes(png(4, 1, payload=bomb + b"\x00" * 10_000_000))
    with pytest.raises(ValueError, match="needs"):
        images.read_png(tmp_path / "bomb.png")
    (tmp_path / "trunc.png").write_bytes(good[:40])
    with pytest.raises(ValueError, match="truncated"):
        images.read_png(tmp_path / "trunc.png")
    (tmp_path / "bad_filter.png").write_bytes(png(1, 1, payload=b"\x07\x01\x02\x03"))
    with pytest.raises(ValueError, match="filter 7"):
        images.read_png(tmp_path / "bad_filter.png")


def test_write_png_validates_its_input(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        images.write_png(tmp_path / "a.png", np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="shape"):
        images.write_png(tmp_path / "a.png", np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ValueError, match="filter_type"):
        images.write_png(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8), filter_type="best")


def test_to_rgb_repeats_grey_and_drops_alpha():
    grey = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert images.to_rgb(grey).shape == (2, 3, 3) and (images.to_rgb(grey)[..., 2] == grey).all()
    rgba = np.random.default_rng(0).integers(0, 256, (2, 3, 4), dtype=np.uint8)
    np.testing.assert_array_equal(images.to_rgb(rgba), rgba[..., :3])


# ----------------------------------------------------------------------------- resizing

def test_bilinear_resize_known_answers():
    """Do doubling [[0, 1], [2, 3]] and shrinking [0, 4] to three pixels give the hand-computed values?"""
    tiny = np.array([[0.0, 1.0], [2.0, 3.0]])
    out = images.bilinear_resize(tiny, (4, 4))
    np.testing.assert_allclose(out[0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(out[1, 1], 0.75)
    np.testing.assert_allclose(images.bilinear_resize(np.array([[0.0, 4.0]]), (1, 3)), [[0.0, 2.0, 4.0]])
    constant = np.full((3, 5, 7), 0.3)
    np.testing.assert_allclose(images.bilinear_resize(constant, (11, 4)), 0.3)
    np.testing.assert_array_equal(images.bilinear_resize(tiny, (2, 2)), tiny)


@pytest.mark.parametrize("size", [(16, 16), (40, 50), (25, 17), (12, 20), (7, 9)])
def test_bilinear_resize_matches_torch_interpolate(size):
    """Is the resize PyTorch's interpolate(mode="bilinear", align_corners=False, antialias=False)?"""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 20, 30))
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode="bilinear", align_corners=False,
                                             antialias=False).numpy()
    np.testing.assert_allclose(images.bilinear_resize(x, size), theirs, rtol=1e-12, atol=1e-12)


def test_bilinear_resize_rejects_bad_sizes():
    with pytest.raises(ValueError, match="size"):
        images.bilinear_resize(np.zeros((4, 4)), (0, 3))
    with pytest.raises(ValueError, match="last two axes"):
        images.bilinear_resize(np.zeros(4), (2, 2))


# ----------------------------------------------------------------------------- folders

def test_shapes_folder_loads_with_sorted_classes_and_varied_sizes(tmp_path):
    """Does the folder hold per_class PNGs per class of varied sizes, loaded as (N, 3, H, W) in [0, 1]?"""
    root = images.write_shapes_folder(tmp_path / "s", per_class=6, seed=0)
    sides = {images.read_png(f).shape[0] for f in root.glob("*/*.png")}
    assert len(sides) > 1 and min(sides) >= 20 and max(sides) <= 40
    X, y, names = data.load_image_folder(root, size=(12, 16))
    assert names == sorted(images.SHAPE_CLASSES) == list(images.SHAPE_CLASSES)
    assert X.shape == (24, 3, 12, 16) and X.dtype == np.float32 and 0 <= X.min() <= X.max() <= 1
    assert np.bincount(y).tolist() == [6, 6, 6, 6]
    again = data.load_image_folder(images.write_shapes_folder(tmp_path / "t", per_class=6, seed=0), size=(12, 16))
    np.testing.assert_array_equal(X, again.X)


def test_load_image_resizes_as_bilinear_resize(tmp_path):
    img = images.draw_shape("circle", 33, seed=3)
    path = images.write_png(tmp_path / "c.png", img)
    expected = images.bilinear_resize(img.transpose(2, 0, 1).astype(np.float64) / 255, (16, 16))
    np.testing.assert_allclose(images.load_image(path, dtype=np.float64), expected, atol=1e-12)


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        data.load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no class"):
        data.load_image_folder(tmp_path)
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="no .png"):
        data.load_image_folder(tmp_path)
    images.write_shapes_folder(tmp_path / "b", per_class=3, seed=0)
    with pytest.raises(ValueError, match="max_images"):
        data.load_image_folder(tmp_path / "b", max_images=5)


def test_draw_shape_is_seeded_and_validated():
    np.testing.assert_array_equal(images.draw_shape("square", 24, seed=5), images.draw_shape("square", 24, seed=5))
    with pytest.raises(ValueError, match="kind"):
        images.draw_shape("hexagon")


def test_channel_normalizer_uses_training_statistics():
    """Does the normaliser give the training split zero mean, unit std per channel, and reuse those numbers?"""
    rng = np.random.default_rng(0)
    X_train = rng.random((20, 3, 4, 4)) * np.array([1.0, 0.5, 0.2])[None, :, None, None]
    norm = data.ChannelNormalizer().fit(X_train)
    Z = norm.transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=(0, 2, 3)), 1, atol=1e-6)
    X_new = rng.random((2, 3, 4, 4))
    np.testing.assert_allclose(norm.transform(X_new), (X_new - norm.mean_[None, :, None, None])
                               / (norm.std_[None, :, None, None] + norm.eps))
    with pytest.raises(RuntimeError, match="before fit"):
        data.ChannelNormalizer().transform(X_new)


# ----------------------------------------------------------------------------- augmentation

def test_shift_images_edge_mode_repeats_the_border():
    x = np.arange(12.0).reshape(1, 3, 4)
    out = augment.shift_images(x, 1, -1, mode="edge")
    np.testing.assert_array_equal(out[0], [[4, 4, 5, 6], [8, 8, 9, 10], [8, 8, 9, 10]])
    np.testing.assert_array_equal(augment.shift_images(x, 1, 0), augment.shift_images(x, 1, 0, mode="zeros"))
    with pytest.raises(ValueError, match="mode"):
        augment.shift_images(x, 1, 0, mode="wrap")


def test_random_flips_and_crops_are_seeded_and_label_free():
    X = np.random.default_rng(0).random((50, 3, 8, 8))
    flipped = augment.random_flips(X, seed=1)
    same = [np.array_equal(f, x) for f, x in zip(flipped, X)]
    mirrored = [np.array_equal(f, x[..., ::-1]) for f, x in zip(flipped, X)]
    assert all(s or m for s, m in zip(same, mirrored)) and 10 < sum(mirrored) < 40
    np.testing.assert_array_equal(flipped, augment.random_flips(X, seed=1))
    np.testing.assert_array_equal(augment.flip_horizontal(augment.flip_horizontal(X)), X)
    crops = augment.random_crops(X, max_shift=2, seed=0)
    assert crops.shape == X.shape
    np.testing.assert_array_equal(crops, augment.random_crops(X, max_shift=2, seed=0))
    np.testing.assert_array_equal(augment.random_crops(X, max_shift=0, seed=0), X)


def test_brightness_contrast_jitter_and_augment_colour():
    X = np.random.default_rng(0).random((30, 3, 6, 6)).astype(np.float32)
    out = augment.jitter_brightness_contrast(X, brightness=0.1, contrast=0.2, seed=0)
    assert out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    unclipped = augment.jitter_brightness_contrast(X, brightness=0.0, contrast=0.0, seed=0, clip=None)
    np.testing.assert_allclose(unclipped, X, atol=1e-6)
    shifted = augment.jitter_brightness_contrast(X, brightness=0.1, contrast=0.0, seed=0, clip=None)
    delta = (shifted - X).reshape(30, -1)
    assert np.allclose(delta, delta[:, :1], atol=1e-6) and np.abs(delta).max() <= 0.1 + 1e-6
    a = augment.augment_colour(X, seed=3)
    np.testing.assert_array_equal(a, augment.augment_colour(X, seed=3))
    assert a.shape == X.shape and not np.array_equal(a, X)
    np.testing.assert_array_equal(augment.augment_colour(X, seed=3, flip=False, max_shift=0, brightness=0,
                                                         contrast=0), X)
