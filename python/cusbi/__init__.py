"""cusbi from Python, with sbi's names.

Switch an sbi script to cusbi by changing its imports::

    from cusbi import BoxUniform, simulate_for_sbi, NPE

Arrays go in as torch tensors or NumPy arrays (float32 C-contiguous arrays are used in place,
zero-copy through DLPack; float64 and other dtypes are converted to float32, non-contiguous
arrays made contiguous). Outputs come back as the kind of array passed in; where no array
argument decides (``prior.sample``, ``simulate_for_sbi``), as torch tensors when torch is
installed, else NumPy arrays (``cusbi.set_array_kind("numpy")`` changes that). A CUDA tensor
stays on its GPU. Errors of the C++ core raise ``cusbi.Error`` with its message.
"""

from ._cusbi import *  # noqa: F401,F403
from ._cusbi import Error, __doc__ as _core_doc  # noqa: F401

__version__ = "0.1.0"
