"""Process-group helpers: backend resolution and the end-of-run teardown."""
import torch
import torch.distributed as dist

from fertools.engine import finalize_distributed, resolve_backend


def test_resolve_backend_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert resolve_backend('auto') == 'gloo' and resolve_backend('nccl') == 'gloo'
    assert resolve_backend('gloo') == 'gloo'


def test_finalize_destroys_the_group(tmp_path):
    finalize_distributed()                          # no group: nothing to do
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0, world_size=1)
    assert dist.is_initialized()
    finalize_distributed()
    assert not dist.is_initialized()
