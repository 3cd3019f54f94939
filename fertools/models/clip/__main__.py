"""``python -m fertools.models.clip CONFIG [--cfg-options k=v ...]``: build (or find) a CLIP pretraining config's
cached weights and print their path (:func:`fertools.models.clip.pretrained_cache.main`)."""
from .pretrained_cache import main

raise SystemExit(main())
