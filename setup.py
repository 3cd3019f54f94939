"""Install fertools: ``pip install -e ".[tests]"`` (see README.md)."""
import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = osp.dirname(osp.abspath(__file__))


class BuildPyWithConfigs(build_py):
    """``build_py`` that ships ``configs/`` as ``fertools/.mim/configs`` (OpenMMLab's ``.mim`` layout), so an
    installed fertools resolves ``_base_ = ['fertools::baselines/resnet18_synthface.py']`` and ``list_models``.

    A clone needs no copy: ``fertools/.mim/configs`` is a symlink to ``configs/`` (editable installs and
    ``PYTHONPATH`` use it); a wheel gets real files, copied here into the build folder, never into the tree.
    """

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        target = osp.join(self.build_lib, 'fertools', '.mim', 'configs')
        if osp.islink(target):
            os.remove(target)
        shutil.rmtree(target, ignore_errors=True)  # a previous build's copy
        shutil.copytree(osp.join(HERE, 'configs'), target,
                        ignore=shutil.ignore_patterns('__pycache__', '*.py[cod]'))


def read_requirements(name):
    """Requirement lines of ``requirements/<name>.txt`` without comments or blanks."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    scope = {}
    with open(osp.join(HERE, 'fertools', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='fertools',
    version=read_version(),
    description='OpenMMLab-style toolkit for facial-expression-recognition research '
                '(NFER-SDE, LRDif, IDFERM) with an embedded synthetic face set.',
    long_description=open(osp.join(HERE, 'README.md')).read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('tests', 'tests.*', 'projects', 'projects.*', 'tools', 'configs')),
    include_package_data=True,
    install_requires=read_requirements('runtime'),
    extras_require={
        'tests': read_requirements('tests'),
        'optional': read_requirements('optional'),
        'all': read_requirements('tests') + read_requirements('optional'),
    },
    cmdclass={'build_py': BuildPyWithConfigs},
    zip_safe=False,
)
