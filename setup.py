"""Install fertools: ``pip install -e ".[tests]"`` (see README.md)."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


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
    zip_safe=False,
)
