"""Captions of rendered faces from what the renderer knows, for contrastive (CLIP) pretraining."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from fertools.registry import TRANSFORMS

FIELDS = ('expression', 'intensity', 'pose', 'light', 'modality')


@TRANSFORMS.register_module()
class SynthFaceCaption(BaseTransform):
    """Write ``results['caption']``: one of ``templates`` filled from the sample's render facts.

    Template fields (``str.format`` names; a template may use any subset):

    - ``{expression}``: ``expression_words[results['expression']]``, by default the words of LRDif's class
      prompts (``open_clip_encoder.PROMPT_WORDS``: 'happy', 'sad', ...), so a pretrained CLIP knows them;
    - ``{intensity}``: the word of the first ``(upper bound, word)`` of ``intensity_words`` above
      ``results['intensity']`` (empty for neutral faces);
    - ``{pose}``: 'turned to the left/right' (``|yaw| > pose_threshold``) and/or 'looking up/down' (pitch),
      else 'facing the camera';
    - ``{light}``: 'lit from the left/right' (``|light_azimuth| > light_threshold``), else 'lit from the front';
    - ``{modality}``: ``modality_words[results['modality']]``, prefixed by ``udc_words`` when an earlier
      ``UDCDegradation`` degraded the image (``results['udc_preset']``).

    Left and right are the image's; a horizontal flip earlier in the pipeline (``results['flip']``) swaps
    them. Pose and light come from :class:`~fertools.datasets.SynthFaceCaptionDataset`. Whitespace left by
    empty words is collapsed.

    Args:
        templates (Sequence[str]): caption templates; one is drawn uniformly per call (``np.random``, which
            MMEngine seeds per data-loader worker), or always the first with ``random_template=False``.
        expression_words (dict, optional): overrides of ``PROMPT_WORDS``.
        intensity_words (Sequence[(float, str)]): ascending upper bounds of ``intensity`` and their words.
        pose_threshold, light_threshold (float): degrees below which the pose / light is called frontal.
        modality_words (dict): ``'vis'`` / ``'nir'`` → noun phrase.
        udc_words (str): prefix of the modality phrase for UDC-degraded images.
        random_template (bool): draw the template (training) or use the first (deterministic captions).
    """

    def __init__(self, templates: Sequence[str] = ('a photo of a {expression} face.', ),
                 expression_words: Optional[Dict[str, str]] = None,
                 intensity_words: Sequence[Tuple[float, str]] = ((0.4, 'slightly'), (0.75, ''),
                                                                 (float('inf'), 'very')),
                 pose_threshold: float = 8.0, light_threshold: float = 25.0,
                 modality_words: Optional[Dict[str, str]] = None,
                 udc_words: str = 'blurry under-display camera', random_template: bool = True):
        templates = tuple(templates)
        if not templates or not all(isinstance(t, str) for t in templates):
            raise ValueError(f'SynthFaceCaption: templates must be a non-empty list of strings; got {templates!r}.')
        for t in templates:
            try:
                t.format(**{f: '' for f in FIELDS})
            except (KeyError, IndexError, ValueError) as err:
                raise ValueError(f'SynthFaceCaption: template {t!r} uses a field other than {FIELDS} ({err!r}).')
        bounds = [float(b) for b, _ in intensity_words]
        if not bounds or bounds != sorted(bounds):
            raise ValueError('SynthFaceCaption: intensity_words needs ascending upper bounds; got '
                             f'{intensity_words!r}.')
        self.templates = templates
        from fertools.models.backbones.open_clip_encoder import PROMPT_WORDS  # (models import datasets)
        self.expression_words = {**PROMPT_WORDS, **(expression_words or {})}
        self.intensity_words = tuple((float(b), str(w)) for b, w in intensity_words)
        self.pose_threshold, self.light_threshold = float(pose_threshold), float(light_threshold)
        self.modality_words = {'vis': 'photo', 'nir': 'near-infrared photo', **(modality_words or {})}
        self.udc_words = udc_words
        self.random_template = random_template

    @cache_randomness
    def _template(self) -> str:
        return self.templates[np.random.randint(len(self.templates))] if self.random_template else self.templates[0]

    @staticmethod
    def _need(results: dict, key: str):
        if key not in results:
            raise KeyError(f"SynthFaceCaption: the template needs results[{key!r}]; SynthFaceCaptionDataset "
                           f"provides it (type='SynthFaceCaptionDataset' instead of 'SynthFaceDataset').")
        return results[key]

    def _fields(self, template: str, results: dict) -> dict:
        side = -1.0 if results.get('flip', False) else 1.0       # a mirrored image swaps left and right
        out = {}
        if '{expression}' in template or '{intensity}' in template:
            name = self._need(results, 'expression')
            if name not in self.expression_words:
                raise KeyError(f'SynthFaceCaption: no word for expression {name!r}; add it to expression_words.')
            out['expression'] = self.expression_words[name]
            value = float(self._need(results, 'intensity'))
            out['intensity'] = '' if name == 'neutral' else next(
                (w for b, w in self.intensity_words if value < b), self.intensity_words[-1][1])
        if '{pose}' in template:
            yaw, pitch = side * float(self._need(results, 'yaw')), float(self._need(results, 'pitch'))
            parts = []
            if abs(yaw) > self.pose_threshold:
                parts.append('turned to the right' if yaw > 0 else 'turned to the left')
            if abs(pitch) > self.pose_threshold:
                parts.append('looking down' if pitch > 0 else 'looking up')
            out['pose'] = ' and '.join(parts) or 'facing the camera'
        if '{light}' in template:
            azimuth = side * float(self._need(results, 'light_azimuth'))
            out['light'] = ('lit from the front' if abs(azimuth) <= self.light_threshold else
                            'lit from the right' if azimuth > 0 else 'lit from the left')
        if '{modality}' in template:
            modality = results.get('modality', 'vis')
            word = self.modality_words.get(modality)
            if word is None:
                raise KeyError(f'SynthFaceCaption: no word for modality {modality!r}; add it to modality_words.')
            out['modality'] = f'{self.udc_words} {word}' if results.get('udc_preset') else word
        return out

    def transform(self, results: dict) -> dict:
        template = self._template()
        fields = {f: '' for f in FIELDS}
        fields.update(self._fields(template, results))
        results['caption'] = ' '.join(template.format(**fields).split()).replace(' ,', ',').replace(' .', '.')
        return results

    def __repr__(self):
        return f'{type(self).__name__}(templates={self.templates!r}, random_template={self.random_template})'
