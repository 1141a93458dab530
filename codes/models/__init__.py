"""Models of the codes app, one module per domain, re-exported here.

Split by domain (catalog, fee schedules, guides, imports) because each has its own importers,
pages and tests; `from codes.models import Code` works as with a single models.py.
"""

from codes.models.catalog import Chapter, Code, CodeSystem, CodeVersion, Release, SearchWord, Section  # noqa: F401
from codes.models.fees import AscRate, AspPrice, ConversionFactor, DmeposFee, FeeRelease, Locality, OppsRate, PhysicianFee  # noqa: F401
from codes.models.guides import CodingRule, Guide, GuideEntry, GuideNote, GuideSection, NcciEdit  # noqa: F401
from codes.models.imports import ImportRun  # noqa: F401
