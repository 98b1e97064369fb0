"""Image transforms as callable objects, with torchvision's names and arguments.

Every transform has two forms:

- ``t(img)`` transforms one image (..., H, W), as torchvision does (a random transform draws
  one set of parameters for everything it is given);
- ``t.batch(images)`` transforms a batch [N, ..., H, W] with a separate draw for each image, in
  a few vectorized NumPy operations: the fast way to augment in the training loop
  (``xb = augment.batch(xb)``) instead of image by image inside the Dataset.

Random draws come from glassgrad's default generator (``gg.manual_seed``) or from the
``generator`` given, so seeded runs are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from glassgrad._random import Generator, _generator_of
from glassgrad.utils.data.transforms import functional as F
from glassgrad.utils.data.transforms.functional import _degrees_range, _unwrap


class Transform:
    """Base class: ``batch(images)`` applies ``__call__`` to the whole batch, which is right for
    the deterministic transforms (they treat leading dims alike); random ones override it."""

    def __call__(self, img):
        raise NotImplementedError

    def batch(self, images):
        return self(images)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


def _batch_size(images, op: str) -> int:
    a, _ = _unwrap(images, op)
    if a.ndim < 3:
        raise ValueError(f"{op}.batch: expected a batch of images [N, ..., H, W], got shape {a.shape}")
    return a.shape[0]


class Compose(Transform):
    """Apply ``transforms`` one after the other. ``batch`` calls each one's ``batch``."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, images):
        for t in self.transforms:
            if not hasattr(t, "batch"):
                raise TypeError(f"Compose.batch: {t!r} has no batch method (only glassgrad transforms do)")
            images = t.batch(images)
        return images

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class ToTensor(Transform):
    """An image array (H, W) or (H, W, C) to a [C, H, W] Tensor; uint8 is scaled to float32 in
    [0, 1], other dtypes are kept. ``batch``: [N, H, W] or [N, H, W, C] to [N, C, H, W]."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def batch(self, images):
        return F.to_tensor_each(images)


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel of a float image (..., C, H, W), e.g. with the
    training set's statistics so inputs have mean 0 and std 1. ``inplace`` is accepted for
    torchvision compatibility; the result is always new."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean = [float(m) for m in np.atleast_1d(mean)]
        self.std = [float(s) for s in np.atleast_1d(std)]
        self.inplace = inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not be zero, got {self.std}")

    def __call__(self, img):
        return F.normalize(img, self.mean, self.std)

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


def _size_pair(size, op: str) -> tuple[int, int]:
    s = (size, size) if isinstance(size, int) else tuple(size)
    if len(s) == 1:
        s = s * 2
    if len(s) != 2 or not all(isinstance(v, int) and v >= 1 for v in s):
        raise ValueError(f"{op}: size must be a positive int or a pair (height, width), got {size!r}")
    return s


class RandomCrop(Transform):
    """Pad by ``padding`` (int, (left/right, top/bottom) or (left, top, right, bottom); with
    ``fill`` or a ``padding_mode``), then crop a ``size`` window at a uniformly random place.
    ``pad_if_needed`` pads an image smaller than ``size`` up to it. The usual small-shift
    augmentation: ``RandomCrop(28, padding=2)`` moves an MNIST digit by up to 2 pixels."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant", generator: Generator | None = None):
        self.size = _size_pair(size, "RandomCrop")
        self.padding = None if padding is None else F._padding4(padding, "RandomCrop")
        if padding_mode not in F._PAD_MODES:
            raise ValueError(f"RandomCrop: padding_mode must be one of {F._PAD_MODES}, got {padding_mode!r}")
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        self.generator = generator

    def _padded(self, img):
        a, was_tensor = _unwrap(img, "RandomCrop")
        if self.padding is not None:
            a = F._pad_array(a, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        h, w = a.shape[-2:]
        if self.pad_if_needed and (h < th or w < tw):
            a = F._pad_array(a, (max(tw - w, 0), max(th - h, 0)) * 2, self.fill, self.padding_mode)
            h, w = a.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the (padded) image "
                             f"{(h, w)} (input of shape {tuple(img.shape)})")
        return a, was_tensor

    @staticmethod
    def get_params(img, output_size, generator: Generator | None = None) -> tuple[int, int, int, int]:
        """(top, left, height, width) of a random ``output_size`` window of ``img``."""
        h, w = img.shape[-2:]
        th, tw = output_size
        g = _generator_of(generator)
        return int(g.integers(0, h - th + 1, ())), int(g.integers(0, w - tw + 1, ())), th, tw

    def __call__(self, img):
        a, was_tensor = self._padded(img)
        top, left, th, tw = self.get_params(a, self.size, self.generator)
        return F._rewrap(a[..., top:top + th, left:left + tw], was_tensor)

    def batch(self, images):
        n = _batch_size(images, "RandomCrop")
        a, was_tensor = self._padded(images)
        (h, w), (th, tw) = a.shape[-2:], self.size
        g = _generator_of(self.generator)
        tops, lefts = g.integers(0, h - th + 1, (n,)), g.integers(0, w - tw + 1, (n,))
        return F._rewrap(F.crop_each(a, tops, lefts, th, tw), was_tensor)

    def extra_repr(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class _RandomFlip(Transform):
    def __init__(self, p: float = 0.5, generator: Generator | None = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be between 0 and 1, got {p}")
        self.p, self.generator = p, generator

    def __call__(self, img):
        _unwrap(img, type(self).__name__)
        if _generator_of(self.generator).random((), np.float64) < self.p:
            return self._flip(img)
        return img

    def batch(self, images):
        n = _batch_size(images, type(self).__name__)
        return self._flip_each(images, _generator_of(self.generator).random((n,), np.float64) < self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror the image left-right with probability ``p``."""

    _flip, _flip_each = staticmethod(F.hflip), staticmethod(F.hflip_each)


class RandomVerticalFlip(_RandomFlip):
    """Mirror the image upside down with probability ``p``."""

    _flip, _flip_each = staticmethod(F.vflip), staticmethod(F.vflip_each)


class RandomAffine(Transform):
    """A random affine warp about the image center, keeping the size: rotation by an angle drawn
    uniformly from ``degrees`` (d: [-d, d]; or (min, max); counter-clockwise), a shift by up to
    ``translate`` = (a, b) times the width / height (drawn uniformly, rounded to whole pixels),
    a ``scale`` factor drawn from (min, max), and a ``shear`` in degrees (s: x shear in [-s, s];
    (min, max); or (xmin, xmax, ymin, ymax)). The output pixel reads the input by ``interpolation``
    ('nearest', torchvision's default, or 'bilinear'); places from outside the image get ``fill``.
    """

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation: str = "nearest",
                 fill: float = 0, center=None, generator: Generator | None = None):
        name = type(self).__name__
        self.degrees = _degrees_range(degrees, "degrees", name)
        if translate is not None:
            translate = tuple(translate)
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"{name}: translate must be a pair of fractions in [0, 1], got {translate!r}")
        if scale is not None:
            scale = tuple(scale)
            if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
                raise ValueError(f"{name}: scale must be a pair (min, max) of positive numbers, got {scale!r}")
        if shear is not None:
            if isinstance(shear, (int, float)) or len(shear) == 2:
                shear = _degrees_range(shear, "shear", name) + (0.0, 0.0)
            elif len(shear) == 4:
                shear = _degrees_range(shear[:2], "shear", name) + _degrees_range(shear[2:], "shear", name)
            else:
                raise ValueError(f"{name}: shear must be a number, or a sequence of 2 or 4, got {shear!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{name}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation, self.fill, self.center, self.generator = interpolation, fill, center, generator

    def get_params(self, n: int, image_size) -> dict:
        """``n`` draws of each parameter (arrays of n): angle, translate (tx, ty), scale, shear."""
        g = _generator_of(self.generator)
        h, w = image_size
        angle = g.uniform(*self.degrees, (n,))
        if self.translate is not None:
            mx, my = self.translate[0] * w, self.translate[1] * h
            tx, ty = np.round(g.uniform(-mx, mx, (n,))), np.round(g.uniform(-my, my, (n,)))
        else:
            tx = ty = np.zeros(n)
        scale = g.uniform(*self.scale, (n,)) if self.scale is not None else np.ones(n)
        if self.shear is not None:
            shear = (g.uniform(*self.shear[:2], (n,)), g.uniform(*self.shear[2:], (n,)))
        else:
            shear = (np.zeros(n), np.zeros(n))
        return {"angle": angle, "translate": (tx, ty), "scale": scale, "shear": shear}

    def __call__(self, img):
        a, _ = _unwrap(img, type(self).__name__)
        p = self.get_params(1, a.shape[-2:])
        return F.affine(img, p["angle"][0], (p["translate"][0][0], p["translate"][1][0]), p["scale"][0],
                        (p["shear"][0][0], p["shear"][1][0]), self.interpolation, self.fill, self.center)

    def batch(self, images):
        n = _batch_size(images, type(self).__name__)
        p = self.get_params(n, images.shape[-2:])
        return F.affine_each(images, interpolation=self.interpolation, fill=self.fill, center=self.center, **p)

    def extra_repr(self) -> str:
        s = f"degrees={self.degrees}"
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                s += f", {name}={getattr(self, name)}"
        return s + f", interpolation={self.interpolation}"


class RandomRotation(RandomAffine):
    """Rotate by an angle drawn uniformly from ``degrees`` (d: [-d, d]; or (min, max)),
    counter-clockwise about ``center`` (column, row; default the image center), keeping the size;
    corners from outside the image get ``fill``."""

    def __init__(self, degrees, interpolation: str = "nearest", center=None, fill: float = 0,
                 generator: Generator | None = None):
        super().__init__(degrees, interpolation=interpolation, fill=fill, center=center, generator=generator)
