"""Log a fixed grid (source | translation | real target) of a translation model during training: VIS → NIR
translators (target: the NIR twin ``paired_img``) and IDFERM's hard negative generator (query | generated
neutral face | real neutral face ``neutral_img``)."""
from typing import Optional

import torch
from mmengine.hooks import Hook

from fertools.registry import HOOKS


@HOOKS.register_module()
class TranslationVisualizationHook(Hook):
    """Every ``interval`` training iterations (and after training), translate the same ``num_images`` faces of
    the validation set (fixed seed) and ``add_image`` the grid *source | translation | real target* to the
    Runner's visualiser (TensorBoard's ``translation`` image, ``vis_data/vis_image`` PNGs locally).

    The model must expose ``translate(inputs, generator=..., sampler=...)`` and ``to_target(images)``
    (:class:`~fertools.models.translators.ConditionalScoreTranslator`, ``Pix2PixTranslator``,
    :class:`~fertools.models.gans.HardNegativeGenerator`). The third column is each sample's ``target_key`` image
    (normalised by the data preprocessor, mapped by ``to_target``), drawn when every sample of the grid has it.

    Args:
        interval (int): iterations between grids. Default 500.
        num_images (int): faces in the grid (the first of the val loader's first batch). Default 8.
        sampler (dict, optional): a cheaper sampler for the preview (e.g. ``DDIMSampler`` with 20 steps);
            ``None``: the model's own.
        seed (int): the preview's generator seed.
        target_key (str): the data-sample field of the real target: ``'paired_img'`` (default, the NIR twin) or
            ``'neutral_img'`` (HNG's real frontal neutral face).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 500, num_images: int = 8, sampler: Optional[dict] = None, seed: int = 0,
                 target_key: str = 'paired_img'):
        if interval < 1 or num_images < 1:
            raise ValueError(f'TranslationVisualizationHook: interval and num_images must be >= 1; got '
                             f'{interval}, {num_images}.')
        self.interval, self.num_images, self.sampler, self.seed = int(interval), int(num_images), sampler, int(seed)
        self.target_key = target_key
        self._batch = None

    def _fixed_batch(self, runner, model):
        if self._batch is None:
            loader = runner.val_dataloader if runner._val_dataloader is not None else runner.train_dataloader
            batch = next(iter(loader))
            batch = {k: v[:self.num_images] for k, v in batch.items()}
            self._batch = model.data_preprocessor(batch, False)
        return self._batch

    def _log(self, runner, step: int) -> None:
        from fertools.visualization.image_grid import image_rows_grid
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        data = self._fixed_batch(runner, model)
        inputs, samples = data['inputs'], data['data_samples']
        was_training = model.training
        model.eval()
        generator = torch.Generator(device=inputs.device).manual_seed(self.seed)
        out = model.translate(inputs, generator=generator, sampler=self.sampler)
        if was_training:
            model.train()
        columns = [(inputs + 1) / 2, (out + 1) / 2]
        if samples and all(self.target_key in s for s in samples):
            targets = torch.stack([s.get(self.target_key) for s in samples]).to(inputs)
            columns.append((model.to_target(targets) + 1) / 2)
        runner.visualizer.add_image('translation', image_rows_grid(columns), step=step)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._log(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        if runner.iter % self.interval:  # the final weights, unless the last iteration was just logged
            self._log(runner, runner.iter)
