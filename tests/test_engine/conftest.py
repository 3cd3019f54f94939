"""Make the test-only ``toy_plugin`` importable (configs name it in ``custom_imports``)."""
import os.path as osp
import sys

HERE = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), "test_tools")
if HERE not in sys.path:
    sys.path.insert(0, HERE)
