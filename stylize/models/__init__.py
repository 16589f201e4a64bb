"""The networks: pure tensors in, tensors out."""

from stylize.models.adaattn import AdaAttNNet, AdaAttNVideoNet
from stylize.models.config import Compute
from stylize.models.network import StyleNetwork
from stylize.models.stya2k import StyA2KNet

# Model name (registry) -> network class.
NETWORKS: dict[str, type[StyleNetwork]] = {
    "adaattn": AdaAttNNet,
    "adaattn-video": AdaAttNVideoNet,
    "stya2k": StyA2KNet,
}

__all__ = ["NETWORKS", "AdaAttNNet", "AdaAttNVideoNet", "Compute", "StyA2KNet", "StyleNetwork"]
