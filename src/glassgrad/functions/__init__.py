"""The ops, grouped by category as in Chainer: math, activation, reduction, array, connection,
loss. Each op is a small ``Function`` class with its forward and backward side by side."""
