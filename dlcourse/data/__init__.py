"""Offline, seeded data for the course: logic gates, toy 2-D sets, handwritten digits, helpers,
shifted copies of images (augmentation), and colour images read from PNG files (:mod:`.images`).

``dlcourse.data`` is a package so that the vendored ``digits.csv.gz`` (and its
licence, ``LICENSE_digits.txt``) can live beside the code that reads it.
"""

from ._digits import digits
from .augment import (augment_colour, flip_horizontal, jitter_brightness_contrast, random_crops, random_flips,
                      random_shifts, shift_images)
from .images import (ChannelNormalizer, ImageFolder, bilinear_resize, draw_shape, load_image, load_image_folder,
                     read_png, to_rgb, write_png, write_shapes_folder)
from .preprocessing import Standardizer, minibatches, one_hot, standardize, train_test_split
from .synthetic import GATES, blobs, circles, logic_gate, make_classification, moons, spirals

__all__ = [
    "logic_gate", "moons", "circles", "spirals", "blobs", "make_classification", "digits",
    "train_test_split", "one_hot", "standardize", "Standardizer", "minibatches", "GATES",
    "shift_images", "random_shifts", "flip_horizontal", "random_flips", "random_crops",
    "jitter_brightness_contrast", "augment_colour",
    "write_png", "read_png", "to_rgb", "draw_shape", "write_shapes_folder", "bilinear_resize", "load_image",
    "ImageFolder", "load_image_folder", "ChannelNormalizer",
]
