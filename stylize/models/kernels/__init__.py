"""The hand-written fast paths of the networks' convolution stacks (CPU and accelerator, no gradients).

`fused.py` runs a layer stack with fused steps (upsampling convolutions as phase convolutions,
ReLUs in place, banded padding), `winograd.py` the wide 3x3 convolutions by Winograd's algorithm
on the CPU, `scratch.py` holds the memory they keep between calls, owned by one model. All give
the plain layers' values to fp32 rounding; `Compute(kernels="plain")` turns them off.
"""
