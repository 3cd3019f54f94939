from .annotation_file import FERAnnotationDataset  # noqa: F401
from .cfee import CFEEDataset  # noqa: F401
from .ckplus import CKPlusDataset  # noqa: F401
from .ferplus import FERPlusDataset  # noqa: F401
from .folder import FERFolderDataset  # noqa: F401
from .folder_images import FolderImagesDataset  # noqa: F401
from .kdef import KDEFDataset  # noqa: F401
from .large_hfe import LargeHFEDataset  # noqa: F401
from .mmi import MMIDataset  # noqa: F401
from .multipie import MultiPIEDataset  # noqa: F401
from .oulu_casia import OuluCASIADataset  # noqa: F401
from .rafdb import RAFDBDataset  # noqa: F401
from .samplers import MPerClassSampler  # noqa: F401
from .subject_folds import SubjectFoldDataset  # noqa: F401
from .synthface import SynthFaceDataset, SynthFaceGenerator  # noqa: F401
