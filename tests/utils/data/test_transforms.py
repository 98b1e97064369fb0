"""Image transforms: exact results of the deterministic ones (against torch's arithmetic, NumPy
and scipy.ndimage as oracles), the distribution and reproducibility of the random ones, the
batch forms against the one-image forms, and their use in datasets and the DataLoader."""

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.stats
import torch

import glassgrad as gg
from glassgrad.utils.data import DataLoader, TensorDataset, TransformDataset
from glassgrad.utils.data import transforms as T
from glassgrad.utils.data.transforms import functional as F

RNG = np.random.default_rng(0)
IMG_U8 = RNG.integers(0, 256, (7, 9, 3), dtype=np.uint8)  # H, W, C
IMG = RNG.standard_normal((2, 9, 12))  # C, H, W (non-square: rows and columns cannot be confused)


# -- ToTensor and Normalize ------------------------------------------------------------------


def test_to_tensor_matches_torchvision_arithmetic():
    t = T.ToTensor()(IMG_U8)
    expected = torch.tensor(IMG_U8).permute(2, 0, 1).float().div(255)  # what torchvision computes
    assert isinstance(t, gg.Tensor) and t.dtype == gg.float32 and tuple(t.shape) == (3, 7, 9)
    np.testing.assert_array_equal(t._data, expected.numpy())
    gray = T.ToTensor()(IMG_U8[..., 0])
    assert tuple(gray.shape) == (1, 7, 9)
    np.testing.assert_array_equal(gray._data[0], t._data[0])
    floats = T.ToTensor()(IMG_U8.astype(np.float64))  # non-uint8: values and dtype kept
    assert floats.dtype == gg.float64 and floats._data.max() == IMG_U8.max()


def test_to_tensor_batch_and_errors():
    batch = np.stack([IMG_U8, IMG_U8[::-1]])
    out = T.ToTensor().batch(batch)
    assert tuple(out.shape) == (2, 3, 7, 9)
    np.testing.assert_array_equal(out._data[1], T.ToTensor()(IMG_U8[::-1])._data)
    assert tuple(T.ToTensor().batch(batch[..., 0]).shape) == (2, 1, 7, 9)
    with pytest.raises(TypeError, match=r"expected a NumPy array.*shape \(H, W\) or \(H, W, C\)"):
        T.ToTensor()(gg.zeros(3, 4, 4))
    with pytest.raises(TypeError, match="shape"):
        T.ToTensor()(np.zeros((1, 2, 3, 4)))


def test_normalize_matches_torch_and_keeps_kind():
    mean, std = [0.5, -1.0], [2.0, 0.25]
    x = IMG.astype(np.float32)
    expected = (torch.tensor(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    out = T.Normalize(mean, std)(gg.tensor(x))
    assert isinstance(out, gg.Tensor) and out.dtype == gg.float32
    np.testing.assert_array_equal(out._data, expected.numpy())
    arr = T.Normalize(mean, std)(x[None])  # a batch of one, as an array
    assert isinstance(arr, np.ndarray)
    np.testing.assert_array_equal(arr[0], expected.numpy())
    np.testing.assert_array_equal(T.Normalize(0.5, 2.0)(x), (x - np.float32(0.5)) / np.float32(2))


def test_normalize_errors():
    with pytest.raises(ValueError, match="mean has 3 values for an image with 2 channels"):
        T.Normalize([0, 0, 0], [1, 1, 1])(IMG)
    with pytest.raises(ValueError, match="std must not be zero"):
        T.Normalize([0], [0])
    with pytest.raises(TypeError, match="expected a float image"):
        T.Normalize([0], [1])(np.zeros((1, 3, 3), dtype=np.uint8))


# -- flips and crops --------------------------------------------------------------------------


def test_flips_with_certain_probability():
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(IMG), IMG[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(IMG), IMG[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(IMG) is IMG
    out = T.RandomHorizontalFlip(p=1.0)(gg.tensor(IMG))
    assert isinstance(out, gg.Tensor)
    np.testing.assert_array_equal(out._data, IMG[..., ::-1])
    batch = np.stack([IMG, -IMG])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0).batch(batch), batch[..., ::-1])


def test_flip_batch_flips_each_image_with_probability_p():
    batch = np.broadcast_to(IMG, (2000, *IMG.shape))
    out = T.RandomHorizontalFlip(p=0.3).batch(batch)
    flipped = (out == IMG[..., ::-1]).all(axis=(1, 2, 3))
    kept = (out == IMG).all(axis=(1, 2, 3))
    assert (flipped ^ kept).all()  # each image whole, one way or the other
    assert abs(flipped.mean() - 0.3) < 0.035  # std of the fraction: 0.010


def test_crop_and_pad_exact():
    np.testing.assert_array_equal(F.crop(IMG, 2, 3, 4, 5), IMG[:, 2:6, 3:8])
    padded = F.pad(IMG, (1, 2, 3, 4), fill=7.0)  # left, top, right, bottom
    assert padded.shape == (2, 9 + 2 + 4, 12 + 1 + 3)
    np.testing.assert_array_equal(padded[:, 2:11, 1:13], IMG)
    assert (padded[:, :2] == 7).all() and (padded[:, :, -3:] == 7).all()
    reflect = torch.nn.functional.pad(torch.tensor(IMG)[None], (2, 2, 1, 1), mode="reflect")[0].numpy()
    np.testing.assert_array_equal(F.pad(IMG, (2, 1), padding_mode="reflect"), reflect)
    with pytest.raises(ValueError, match="does not fit"):
        F.crop(IMG, 6, 0, 4, 4)


def test_crop_each_matches_one_by_one():
    batch = RNG.standard_normal((5, 2, 9, 12)).astype(np.float32)
    tops, lefts = np.array([0, 1, 5, 3, 2]), np.array([4, 0, 6, 6, 1])
    out = F.crop_each(gg.tensor(batch), tops, lefts, 4, 6)
    assert isinstance(out, gg.Tensor) and tuple(out.shape) == (5, 2, 4, 6)
    for i in range(5):
        np.testing.assert_array_equal(out._data[i], batch[i, :, tops[i]:tops[i] + 4, lefts[i]:lefts[i] + 6])


def _offset_of(crop, padded):
    """The (top, left) where ``crop`` sits in ``padded`` (the only place, for random data)."""
    h, w = crop.shape[-2:]
    hits = [(i, j) for i in range(padded.shape[-2] - h + 1) for j in range(padded.shape[-1] - w + 1)
            if np.array_equal(padded[..., i:i + h, j:j + w], crop)]
    assert len(hits) == 1
    return hits[0]


def test_random_crop_is_a_window_of_the_padded_image():
    padded = F.pad(IMG, 2)
    assert T.RandomCrop((13, 16), padding=2)(IMG).shape == (2, 13, 16)  # the only window: itself
    np.testing.assert_array_equal(T.RandomCrop((13, 16), padding=2)(IMG), padded)
    seen = {_offset_of(T.RandomCrop((9, 12), padding=2)(IMG), padded) for _ in range(60)}
    assert seen <= {(i, j) for i in range(5) for j in range(5)} and len(seen) > 15
    small = T.RandomCrop(10, pad_if_needed=True)(IMG[:, :5, :6])  # padded up to the size
    assert small.shape == (2, 10, 10)
    with pytest.raises(ValueError, match=r"crop size \(10, 10\) is larger than the \(padded\) image \(9, 12\)"):
        T.RandomCrop(10)(IMG)


def test_random_crop_batch_offsets_are_uniform_and_per_image():
    batch = np.broadcast_to(IMG, (900, *IMG.shape))
    out = T.RandomCrop((9, 12), padding=1).batch(batch)  # 3 x 3 possible offsets
    padded = F.pad(IMG, 1)
    windows = {(i, j): padded[:, i:i + 9, j:j + 12] for i in range(3) for j in range(3)}
    counts = dict.fromkeys(windows, 0)
    for img in out:
        (match,) = [k for k, v in windows.items() if np.array_equal(v, img)]
        counts[match] += 1
    assert scipy.stats.chisquare(list(counts.values())).pvalue > 1e-4


# -- rotation and affine warps -----------------------------------------------------------------


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [5, 6])
def test_rotate_right_angles_exact(interpolation, size):
    img = RNG.standard_normal((size, size))
    for k in (1, 2, 3):  # counter-clockwise, as np.rot90
        np.testing.assert_allclose(F.rotate(img, 90 * k, interpolation), np.rot90(img, k), atol=1e-12)
    np.testing.assert_array_equal(F.rotate(IMG, 180), IMG[:, ::-1, ::-1])


@pytest.mark.parametrize("angle", [23.7, -61.0])
def test_rotate_matches_scipy(angle):
    for order, interpolation in ((0, "nearest"), (1, "bilinear")):
        expected = np.stack([ndi.rotate(c, angle, reshape=False, order=order, mode="grid-constant",
                                        prefilter=False) for c in IMG])
        np.testing.assert_allclose(F.rotate(IMG, angle, interpolation), expected, atol=1e-12)


def _scipy_affine(img, inverse_xy, shift_xy=(0, 0)):
    """scipy's affine_transform with an inverse map written in (x, y) = (column, row) about the
    image center, shifted by ``shift_xy`` after the linear map."""
    h, w = img.shape[-2:]
    c = np.array([(h - 1) / 2, (w - 1) / 2])
    m = np.asarray(inverse_xy)[::-1, ::-1]  # to (row, column)
    offset = c - m @ (c + np.asarray(shift_xy)[::-1])
    return np.stack([ndi.affine_transform(ch, m, offset, order=1, mode="grid-constant", prefilter=False)
                     for ch in img])


def test_affine_translate_scale_shear_match_scipy():
    # 3 pixels right and 2 up: out[r, c] = in[r + 2, c - 3]
    np.testing.assert_array_equal(F.affine(IMG, 0, translate=(3, -2))[:, :7, 3:], IMG[:, 2:, :9])
    np.testing.assert_allclose(F.affine(IMG, 0, translate=(2, 1), interpolation="bilinear"),
                               _scipy_affine(IMG, np.eye(2), (2, 1)), atol=1e-12)
    np.testing.assert_allclose(F.affine(IMG, 0, scale=1.7, interpolation="bilinear"),
                               _scipy_affine(IMG, np.eye(2) / 1.7), atol=1e-12)
    # x shear by s: x_out = x_in - tan(s) * y_in about the center, i.e. x_in = x_out + tan(s) * y_out
    s = math.tan(math.radians(20))
    np.testing.assert_allclose(F.affine(IMG, 0, shear=20, interpolation="bilinear"),
                               _scipy_affine(IMG, [[1, s], [0, 1]]), atol=1e-12)
    s = math.tan(math.radians(-15))
    np.testing.assert_allclose(F.affine(IMG, 0, shear=(0, -15), interpolation="bilinear"),
                               _scipy_affine(IMG, [[1, 0], [s, 1]]), atol=1e-12)


def test_affine_fill_center_and_integer_images():
    assert (F.rotate(np.ones((8, 8)), 45, fill=-1.0) == -1).sum() > 0  # corners come from outside
    img = np.zeros((7, 7))
    img[1, 5] = 1  # rotating about that pixel leaves it where it is
    assert F.rotate(img, 77, center=(5, 1))[1, 5] == 1
    u8 = RNG.integers(0, 256, (3, 10, 10), dtype=np.uint8)
    out = F.affine(u8, 10, scale=1.1, interpolation="bilinear")
    assert out.dtype == np.uint8
    ref = np.floor(F.affine(u8.astype(np.float64), 10, scale=1.1, interpolation="bilinear") + 0.5)
    np.testing.assert_array_equal(out, ref)


def test_affine_each_matches_one_by_one():
    batch = RNG.standard_normal((4, 2, 9, 12)).astype(np.float32)
    angle, tx, ty = np.array([0, 10, -35, 90]), np.array([0, 1, -2, 0]), np.array([1, 0, 2, -1])
    scale, shx, shy = np.array([1, 0.8, 1.2, 1]), np.array([0, 5, 0, -5]), np.array([0, 0, 3, 0])
    out = F.affine_each(batch, angle, (tx, ty), scale, (shx, shy), "bilinear")
    assert out.dtype == np.float32
    for i in range(4):
        one = F.affine(batch[i], angle[i], (tx[i], ty[i]), scale[i], (shx[i], shy[i]), "bilinear")
        np.testing.assert_allclose(out[i], one, rtol=1e-6, atol=1e-6)


def test_random_rotation_angles_uniform_and_per_image():
    t = T.RandomRotation((-10, 30))
    angles = t.get_params(4000, (9, 12))["angle"]
    assert angles.min() >= -10 and angles.max() <= 30
    assert scipy.stats.kstest(angles, scipy.stats.uniform(-10, 40).cdf).pvalue > 1e-4
    batch = np.broadcast_to(IMG, (6, *IMG.shape))
    out = T.RandomRotation(40, interpolation="bilinear").batch(batch)
    assert len({o.tobytes() for o in out}) == 6  # each image its own angle


def test_random_affine_parameters():
    t = T.RandomAffine(0, translate=(0.25, 0.5), scale=(0.8, 1.2), shear=(-5, 5, 10, 20))
    p = t.get_params(3000, (8, 12))
    tx, ty = p["translate"]
    assert set(np.unique(tx)) == set(range(-3, 4)) and set(np.unique(ty)) <= set(range(-4, 5))
    assert (p["scale"] >= 0.8).all() and (p["scale"] <= 1.2).all()
    assert (np.abs(p["shear"][0]) <= 5).all() and (p["shear"][1] >= 10).all() and (p["shear"][1] <= 20).all()
    assert (p["angle"] == 0).all()
    with pytest.raises(ValueError, match="translate must be a pair of fractions"):
        T.RandomAffine(0, translate=(2, 0))
    with pytest.raises(ValueError, match="scale must be a pair"):
        T.RandomAffine(0, scale=(0, 1))
    with pytest.raises(ValueError, match="must be non-negative"):
        T.RandomRotation(-5)
    with pytest.raises(ValueError, match="interpolation must be"):
        T.RandomRotation(5, interpolation="cubic")


# -- reproducibility, composition, datasets ---------------------------------------------------

AUGMENT = [
    lambda g: T.RandomCrop((9, 12), padding=2, generator=g),
    lambda g: T.RandomHorizontalFlip(generator=g),
    lambda g: T.RandomRotation(30, generator=g),
    lambda g: T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, generator=g),
]


@pytest.mark.parametrize("make", AUGMENT)
def test_random_transforms_reproducible(make):
    batch = np.stack([IMG] * 8)
    gg.manual_seed(4)
    a, a_batch = make(None)(IMG), make(None).batch(batch)
    gg.manual_seed(4)
    np.testing.assert_array_equal(make(None)(IMG), a)
    np.testing.assert_array_equal(make(None).batch(batch), a_batch)
    np.testing.assert_array_equal(make(gg.Generator(1)).batch(batch), make(gg.Generator(1)).batch(batch))


def test_compose_single_and_batch():
    tf = T.Compose([T.ToTensor(), T.RandomHorizontalFlip(1.0), T.Normalize([0.5] * 3, [0.5] * 3)])
    out = tf(IMG_U8)
    np.testing.assert_allclose(out._data, (T.ToTensor()(IMG_U8)._data[..., ::-1] - 0.5) / 0.5, rtol=1e-6)
    out_b = tf.batch(np.stack([IMG_U8, IMG_U8]))
    assert tuple(out_b.shape) == (2, 3, 7, 9)
    np.testing.assert_allclose(out_b._data[1], out._data, rtol=1e-6)
    assert "RandomHorizontalFlip(p=1.0)" in repr(tf)
    with pytest.raises(TypeError, match="has no batch method"):
        T.Compose([lambda x: x]).batch(np.zeros((2, 3, 3)))


def test_transform_dataset_per_sample_and_through_the_loader():
    x = np.broadcast_to(IMG.astype(np.float32), (64, *IMG.shape)).copy()
    y = np.arange(64)
    flip = T.RandomHorizontalFlip(1.0)
    ds = TransformDataset(TensorDataset(x, y), flip, target_transform=lambda t: t * 10)
    img, label = ds[3]
    np.testing.assert_array_equal(img._data, x[0, ..., ::-1])
    assert label == 30
    assert len(ds) == 64
    # whole batches: the loader's fast path runs the transform's batch form on each batch
    calls = []

    class Recorded(T.RandomRotation):
        def __call__(self, img):
            calls.append("one")
            return super().__call__(img)

        def batch(self, images):
            calls.append("batch")
            return super().batch(images)

    aug = TransformDataset(TensorDataset(x, y), Recorded(45, interpolation="bilinear"))
    xb, yb = next(iter(DataLoader(aug, batch_size=16)))
    assert calls == ["batch"]
    assert tuple(xb.shape) == (16, 2, 9, 12) and len({o.tobytes() for o in xb._data}) == 16
    np.testing.assert_array_equal(yb._data, np.arange(16))
    # with a plain-function transform the loader falls back to sample by sample
    plain = TransformDataset(TensorDataset(x, y), lambda im: im * 2)
    xb, _ = next(iter(DataLoader(plain, batch_size=4)))
    np.testing.assert_allclose(xb._data, 2 * x[:4])
