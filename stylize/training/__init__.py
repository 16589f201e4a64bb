"""Training AdaAttN, AdaAttN-video and StyA2K on folders of content and style images.

`config.TrainConfig` says what to train; `trainer.Trainer` runs it (resumable, mixed precision);
`data` samples augmented crops, `losses` holds the papers' losses, `forward` the differentiable
forward pass over the network modules, `export` the official-layout files and the model card.
"""
