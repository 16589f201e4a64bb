"""The networks: pure tensors in, tensors out. Which class is which model: `stylize.weights.registry`."""

from stylize.models.adaattn import AdaAttNNet, AdaAttNVideoNet
from stylize.models.config import Compute
from stylize.models.network import StyleNetwork
from stylize.models.stya2k import StyA2KNet

__all__ = ["AdaAttNNet", "AdaAttNVideoNet", "Compute", "StyA2KNet", "StyleNetwork"]
