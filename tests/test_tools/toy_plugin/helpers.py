"""Helpers for tests that run the toy config in-process or through the tools."""
import os.path as osp

TOY_CONFIG = osp.join(osp.dirname(osp.abspath(__file__)), 'toy_config.py')
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TOY_PATH = osp.dirname(osp.dirname(osp.abspath(__file__)))


def toy_cfg(work_dir, **overrides):
    """The toy config with ``work_dir`` and dotted ``overrides`` applied (no TensorBoard, quiet log)."""
    from fertools.utils import load_config
    cfg = load_config(TOY_CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
    cfg.log_level = 'WARNING'
    cfg.merge_from_dict(overrides)
    return cfg


def build_runner(cfg):
    import fertools.engine  # noqa: F401
    from fertools.registry import RUNNERS
    return RUNNERS.build(cfg)


def read_batches(work_dir, rank=0):
    import json
    with open(osp.join(str(work_dir), f'batches_rank{rank}.jsonl')) as f:
        return [json.loads(line) for line in f]


def load_tool(name):
    """``tools/<name>.py`` imported as a module (its ``main(argv)`` runs the tool in-process)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(f'fertools_tool_{name.replace("/", "_")}',
                                                  osp.join(REPO_ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plain_config_text(cfg):
    """``cfg`` as plain ``key = repr(value)`` lines: a loadable config text without yapf (MMEngine formats every
    logged / dumped / checkpointed config with it: seconds each)."""
    return ''.join(f'{key} = {value!r}\n' for key, value in cfg.to_dict().items())


def dump_plain_config(cfg, out, name):
    """``cfg`` as the plain Python config file ``out/<name>.py`` for the tools; its path."""
    path = osp.join(out, f'{name}.py')
    with open(path, 'w') as f:
        f.write(plain_config_text(cfg))
    return path
