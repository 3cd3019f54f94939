"""Random-number-generator state as plain tensors, per rank — what exact resume needs.

MMEngine 0.10.7 seeds the python / numpy / torch generators once (``randomness`` in the config) but never
saves their states, so a resumed run draws different dropout masks and augmentations than the run it
continues (DEPENDENCIES.md measured a max weight difference of 0.44). :class:`fertools.engine.FERRunner`
stores :func:`get_rng_state` of every rank in ``checkpoint['meta']['rng_states']`` (gathered with
:func:`gather_rng_states`) and restores the rank's own entry with :func:`set_rng_state` on resume.

States are encoded with tensors, ints and lists only, so the checkpoint still loads with
``torch.load(weights_only=True)`` (no numpy objects, no ``builtins.getattr``).
"""
import contextlib
import random
from typing import Dict, List, Optional

import numpy as np
import torch

__all__ = ['get_rng_state', 'set_rng_state', 'gather_rng_states', 'preserve_rng_state']


def get_rng_state() -> Dict:
    """The python, numpy, torch-CPU and (if present) CUDA generator states of this process, plain."""
    py_version, py_internal, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state = dict(
        python=dict(version=int(py_version), internal=torch.tensor(py_internal, dtype=torch.int64),
                    gauss_next=py_gauss),
        numpy=dict(kind=str(np_kind), keys=torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
                   pos=int(np_pos), has_gauss=int(np_has_gauss), cached_gaussian=float(np_gauss)),
        torch=torch.get_rng_state().clone(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.clone() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: Dict) -> None:
    """Restore what :func:`get_rng_state` returned (CUDA states only if this process uses CUDA)."""
    py = state['python']
    random.setstate((py['version'], tuple(int(v) for v in py['internal'].tolist()), py['gauss_next']))
    npy = state['numpy']
    np.random.set_state((npy['kind'], npy['keys'].numpy().astype(np.uint32), npy['pos'], npy['has_gauss'],
                         npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        cuda_states = state['cuda']
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])


def gather_rng_states() -> List[Dict]:
    """Every rank's :func:`get_rng_state`, in rank order (a collective: call it on all ranks)."""
    from mmengine.dist import all_gather_object, get_world_size
    state = get_rng_state()
    if get_world_size() == 1:
        return [state]
    return all_gather_object(state)


def select_rank_state(states: Optional[List[Dict]], rank: int, world_size: int) -> Optional[Dict]:
    """This rank's entry of a saved list, or ``None`` when the world size changed (then resume is not
    bit-exact anyway, because each rank sees different data)."""
    if not states or len(states) != world_size:
        return None
    return states[rank]


@contextlib.contextmanager
def preserve_rng_state():
    """Run a block (e.g. validation) without changing any global generator the training loop uses."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
