"""``SynthFaceCaptionDataset``: SynthFace entries that also carry the render parameters a caption can name.

The renderer draws every sample's pose and light from counter-based hashes
(:meth:`SynthFaceGenerator.sample_parameters`), so they can be read back exactly, without rendering, for
the rows :class:`SynthFaceDataset` lays out. :class:`~fertools.datasets.transforms.SynthFaceCaption` turns
them (with ``expression``, ``intensity`` and ``modality``) into sentences for CLIP pretraining
(``configs/clip/clip_tiny_synthface.py``).
"""
import math
from typing import List

import torch

from fertools.registry import DATASETS

from .dataset import SynthFaceDataset
from .generator import SynthFaceGenerator

#: keys added to every entry (degrees): head pose and the key light's direction.
RENDER_KEYS = ('yaw', 'pitch', 'roll', 'light_azimuth', 'light_elevation')


@DATASETS.register_module()
class SynthFaceCaptionDataset(SynthFaceDataset):
    """:class:`SynthFaceDataset` whose entries also hold the renderer's pose and light (same arguments).

    Added entry keys (float, degrees, the exact values the renderer used):

    - ``yaw``: + turns the head towards the image's right; ``pitch``: + tilts it down (the nose tip drops
      below the eyes); ``roll``: in-plane rotation;
    - ``light_azimuth``: + lights the face from the image's right; ``light_elevation``: + from above.
    """

    def _render_or_load(self, subjects, subj, expr, var) -> dict:
        self._row_ids = (subj, expr, var)  # the per-row ids of this layout, for load_data_list below
        return super()._render_or_load(subjects, subj, expr, var)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        gen = SynthFaceGenerator(self.image_size, self.seed, self.difficulty)
        p = gen.sample_parameters(*self._row_ids)
        light = p['light']                                   # unit vector [N, 3]: x right, y down, z to camera
        deg = 180.0 / math.pi
        values = torch.stack([p['yaw'] * deg, p['pitch'] * deg, p['roll'] * deg,
                              torch.atan2(light[:, 0], light[:, 2]) * deg,
                              torch.asin((-light[:, 1]).clamp(-1, 1)) * deg], 1).tolist()
        for entry, row in zip(data_list, values):
            entry.update(zip(RENDER_KEYS, row))
        return data_list
