"""The county's web portal, as a library (``nianbao serve`` is the thin web layer over it):
one round over one archive file — status with the 已核实 marks, uploads through the hardened
check path with every original kept by hash, private links per unit and year, the clerk's
password, and every download as ``(file name, bytes)``."""

from toolkit.portal.service import Portal, PortalError
from toolkit.portal.uploads import PortalOtherUnit, Received

__all__ = ["Portal", "PortalError", "PortalOtherUnit", "Received"]
