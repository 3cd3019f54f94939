"""Every model part of fertools; importing this package registers them all (MODELS, LOSSES, ENERGIES)."""
from . import losses  # noqa: F401,I001  (heads build losses)
from . import backbones, classifiers, data_preprocessors, diffusion, energies, heads, landmarks, necks  # noqa: F401
from . import gans, samplers, translators  # noqa: F401
from . import degradations  # noqa: F401
from . import identity  # noqa: F401
from . import clip  # noqa: F401
