"""Helpers for configs, the command-line tools and process set-up."""
from .cli import debug_enabled, run_main
from .config import (ConfigError, check_required_keys, load_config, merge_cfg_options, propagate_root)
from .setup_env import REPO_ROOT, add_repo_root_to_path, register_all_modules

__all__ = [
    'ConfigError', 'check_required_keys', 'load_config', 'merge_cfg_options', 'propagate_root', 'run_main',
    'debug_enabled', 'REPO_ROOT', 'add_repo_root_to_path', 'register_all_modules'
]
