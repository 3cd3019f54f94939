"""``LRDifStageSwitchHook``: LRDif's S1 → S2 hand-over inside one training run.

LRDif trains in two stages (arXiv 2402.00250): S1 (the label-conditioned prior, eq. 1, trained with L_ce)
then S2 (FPEN_S2 + the prior diffusion + the UDCformer initialised from S1, with the target Z from the frozen
FPEN_S1, trained with L_ce + L_kl). With ``model.stage='auto'`` the model holds both stages and this hook
switches at ``switch_epoch`` (epoch-based loops: before that 0-based epoch starts), ``switch_iter``
(before that 0-based iteration) or ``switch_ratio`` (a fraction of the schedule: of ``max_epochs`` for an
epoch-based loop, else of ``max_iters`` — so a short-schedule override ``train_cfg.max_epochs=2`` or
``train_cfg.max_iters=20`` keeps both stages without touching the hook). At the switch it

1. logs the S1 training accuracy over the last ``acc_window`` S1 iterations (the ``accuracy`` the head
   reports; the paper's S1 reaches 100 % as it sees the label) and stores it in the message hub
   (``lrdif/s1_train_accuracy``);
2. optionally saves the S1 weights (``save_s1_checkpoint``, ``{work_dir}/lrdif_s1.pth``) so that S2 can also
   be re-run alone (``configs/lrdif/*_s2.py`` with ``model.s1_checkpoint``);
3. calls ``model.set_stage('s2')`` (freezes FPEN_S1);
4. clears the optimizer's state (Adam moments; S2 is a fresh optimisation as in the paper, where S2 is a
   separate run initialised from S1) — ``reset_optimizer=False`` keeps them.

Resuming: ``before_train`` starts a resumed run in S2 only when it resumes *past* the switch. A run resumed
exactly at the switch (from the last S1 checkpoint, e.g. ``iter_{switch_iter}.pth``) starts in the stage the
loaded weights carry (``stage_id``: S1 there), so the hand-over above runs in full at its first iteration —
``lrdif_s1.pth`` is written and S1's Adam moments are cleared — and S2 continues exactly as in an uninterrupted
run (tested: identical parameters after the S2 iterations). A checkpoint taken after the switch inside the
switch epoch (epoch loops with iteration checkpoints) carries S2 and is resumed in S2 with its S2 optimizer
state. The S1 accuracy window travels in the checkpoint's ``meta`` (``lrdif_s1_accuracy_window``), so the
resumed run logs the same S1 training accuracy. ``before_train`` also checks that the model's ``classes``
(from which S1's prompts are built) equal the training set's ``metainfo['classes']``.
"""
from collections import deque
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from fertools.registry import HOOKS

__all__ = ['LRDifStageSwitchHook']

#: checkpoint ``meta`` key of the last S1 training accuracies (the hook's ``acc_window``).
ACC_WINDOW_KEY = 'lrdif_s1_accuracy_window'


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class LRDifStageSwitchHook(Hook):
    """Switch an ``LRDif`` model (``stage='auto'``) from S1 to S2 at an epoch or iteration.

    Args:
        switch_epoch (int, optional): 0-based epoch at which S2 starts (epoch-based training).
        switch_iter (int, optional): 0-based iteration at which S2 starts.
        switch_ratio (float, optional): fraction of the schedule spent in S1 (0 < r < 1), rounded to whole
            epochs (epoch-based loops) or iterations. Give exactly one of the three.
        reset_optimizer (bool): clear the optimizer's per-parameter state at the switch. Default True.
        save_s1_checkpoint (bool): save ``lrdif_s1.pth`` (weights only) in the work dir at the switch.
        acc_window (int): number of last S1 iterations whose training accuracy is averaged and logged.
        check_classes (bool): compare ``model.classes`` with the training set's classes before training.
    """

    priority = 'HIGH'  # before the logger / checkpoint hooks of the same event

    def __init__(self, switch_epoch: Optional[int] = None, switch_iter: Optional[int] = None,
                 switch_ratio: Optional[float] = None, reset_optimizer: bool = True,
                 save_s1_checkpoint: bool = True, acc_window: int = 50, check_classes: bool = True):
        if sum(x is not None for x in (switch_epoch, switch_iter, switch_ratio)) != 1:
            raise ValueError('LRDifStageSwitchHook: give exactly one of switch_epoch, switch_iter or switch_ratio.')
        if switch_ratio is not None and not 0 < switch_ratio < 1:
            raise ValueError(f'LRDifStageSwitchHook: switch_ratio must lie in (0, 1); got {switch_ratio}.')
        self.switch_epoch, self.switch_iter, self.switch_ratio = switch_epoch, switch_iter, switch_ratio
        self.reset_optimizer = reset_optimizer
        self.save_s1_checkpoint = save_s1_checkpoint
        self.check_classes = check_classes
        self._acc = deque(maxlen=int(acc_window))
        self.s1_train_accuracy: Optional[float] = None

    # ------------------------------------------------------------------------------------------------
    def _model(self, runner):
        model = _unwrap(runner.model)
        if not hasattr(model, 'set_stage') or not hasattr(model, 'stage_mode'):
            raise TypeError(f'LRDifStageSwitchHook needs an LRDif model; got {type(model).__name__}. Remove the '
                            'hook from custom_hooks or use model.type=\'LRDif\'.')
        return model

    def _start_stage(self, runner, model) -> str:
        """S1 before the switch, S2 past it; at the switch itself the loaded weights' stage (module doc)."""
        if self.switch_epoch is not None:
            position, switch = runner.epoch, self.switch_epoch
        else:
            position, switch = runner.iter, self.switch_iter
        if position == switch:
            return model.stage
        return 's2' if position > switch else 's1'

    def _resolve_ratio(self, runner) -> None:
        if self.switch_ratio is None:
            return
        from mmengine.runner import EpochBasedTrainLoop
        loop = runner.train_loop
        if isinstance(loop, EpochBasedTrainLoop):
            self.switch_epoch = min(max(1, round(self.switch_ratio * loop.max_epochs)), max(1, loop.max_epochs - 1))
        else:
            self.switch_iter = min(max(1, round(self.switch_ratio * loop.max_iters)), max(1, loop.max_iters - 1))

    def before_train(self, runner) -> None:
        self._resolve_ratio(runner)
        model = self._model(runner)
        if self.check_classes:
            dataset = getattr(runner.train_dataloader, 'dataset', None)
            classes = tuple((getattr(dataset, 'metainfo', None) or {}).get('classes', ()) or ())
            if classes and tuple(model.classes) != classes:
                raise ValueError(f'LRDif: model.classes {tuple(model.classes)} differ from the training set\'s '
                                 f'classes {classes}; set model.classes to the dataset\'s class order (its S1 '
                                 'prompts and the head\'s outputs follow it).')
        if model.stage_mode != 'auto':
            runner.logger.info(f'LRDif: fixed stage {model.stage!r} (stage switch hook inactive).')
            return
        stage = self._start_stage(runner, model)
        model.set_stage(stage)
        where = (f'epoch {self.switch_epoch}' if self.switch_epoch is not None else f'iter {self.switch_iter}')
        runner.logger.info(f'LRDif: training starts in stage {stage} (switch at {where}).')

    def before_train_epoch(self, runner) -> None:
        if self.switch_epoch is not None and runner.epoch == self.switch_epoch:
            self._switch(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self.switch_iter is not None and runner.iter == self.switch_iter:
            self._switch(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = _unwrap(runner.model)
        if getattr(model, 'stage', None) == 's1' and outputs and 'accuracy' in outputs:
            value = outputs['accuracy']
            self._acc.append(float(value.detach().mean()) if hasattr(value, 'detach') else float(value))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[ACC_WINDOW_KEY] = list(self._acc)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._acc.clear()
        self._acc.extend(float(v) for v in (checkpoint.get('meta') or {}).get(ACC_WINDOW_KEY, ()))

    # ------------------------------------------------------------------------------------------------
    def _switch(self, runner) -> None:
        model = self._model(runner)
        if model.stage_mode != 'auto' or model.stage == 's2':
            return
        if self._acc:
            self.s1_train_accuracy = 100.0 * sum(self._acc) / len(self._acc)
            runner.message_hub.update_info('lrdif/s1_train_accuracy', self.s1_train_accuracy)
            runner.logger.info(f'LRDif: S1 training accuracy over its last {len(self._acc)} iterations: '
                               f'{self.s1_train_accuracy:.2f}%')
        if self.save_s1_checkpoint:
            runner.save_checkpoint(runner.work_dir, 'lrdif_s1.pth', save_optimizer=False,
                                   save_param_scheduler=False)
            runner.logger.info(f'LRDif: S1 weights saved to {runner.work_dir}/lrdif_s1.pth')
        model.set_stage('s2')
        if self.reset_optimizer:
            wrappers = runner.optim_wrapper
            wrappers = wrappers.values() if hasattr(wrappers, 'values') else [wrappers]
            for wrapper in wrappers:
                wrapper.optimizer.state.clear()
                wrapper.optimizer.zero_grad(set_to_none=True)
        runner.logger.info(f'LRDif: switched to stage 2 at epoch {runner.epoch}, iter {runner.iter} '
                           '(FPEN_S1 and CLIP frozen; FPEN_S2, denoiser, UDCformer, head train).')
