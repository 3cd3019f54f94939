"""Test-wide settings: no test touches the network, and weights caches are empty temp dirs."""
import os
import tempfile

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ['TORCH_HOME'] = tempfile.mkdtemp(prefix='fertools-torch-home-')
