"""Test-only plugin (``custom_imports``) for the multi-node test: a hook recording, per process, where torchrun
placed it (node and ranks, from the environment torchrun gives every worker) and which samples it trained on."""
import json
import os
import os.path as osp

from mmengine.hooks import Hook

from fertools.registry import HOOKS

PLACEMENT_KEYS = ('GROUP_RANK', 'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'LOCAL_WORLD_SIZE')


@HOOKS.register_module(force=True)
class RecordPlacementHook(Hook):
    """Append ``{"iter", "idx": [sample_idx ...], "env": {GROUP_RANK (the node), RANK, ...}}`` per training
    iteration to ``work_dir/placement_rank{RANK}.jsonl``."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        env = {key: int(os.environ[key]) for key in PLACEMENT_KEYS if key in os.environ}
        idx = [int(s.metainfo['sample_idx']) for s in data_batch['data_samples']]
        path = osp.join(runner.work_dir, f'placement_rank{env.get("RANK", 0)}.jsonl')
        with open(path, 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter, idx=idx, env=env)) + '\n')
