"""Make the test-only ``toy_plugin`` importable (configs name it in ``custom_imports``); ``keep_threads``."""
import os.path as osp
import sys

import pytest
import torch

HERE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), "test_tools")
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture
def keep_threads():
    """Restore torch's intra-op thread count after a test that changes it."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
