from .metrics import *  # noqa: F401,F403
from .test_after_train_hook import TestAfterTrainHook  # noqa: F401
