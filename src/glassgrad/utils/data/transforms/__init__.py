"""Image transforms for data augmentation and preprocessing, with torchvision's names:

    from glassgrad.utils.data import transforms as T
    train_tf = T.Compose([T.ToTensor(), T.RandomCrop(28, padding=2), T.Normalize([0.1307], [0.3081])])
    dataset = MNIST(train=True, transform=train_tf)          # per image, inside the Dataset
    ...
    augment = T.Compose([T.RandomAffine(10, translate=(0.1, 0.1)), T.RandomHorizontalFlip()])
    for xb, yb in loader:
        xb = augment.batch(xb)                               # per batch: one draw per image, fast

``functional`` holds the deterministic operations (crop, flips, pad, affine, rotate, ...).
"""

from glassgrad.utils.data.transforms import functional
from glassgrad.utils.data.transforms.transforms import (
    Compose,
    Normalize,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    ToTensor,
    Transform,
)

__all__ = [
    "Compose",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "ToTensor",
    "Transform",
    "functional",
]
