"""Contains all the data models used in inputs/outputs"""

from .credentials_info import CredentialsInfo
from .credentials_set import CredentialsSet
from .delete_function_delete_results import DeleteFunctionDeleteResults
from .delete_job_delete_results import DeleteJobDeleteResults
from .environment import Environment
from .extra_properties import ExtraProperties
from .filter_and import FilterAnd
from .filter_comparison import FilterComparison
from .filter_comparison_op import FilterComparisonOp
from .filter_null_check import FilterNullCheck
from .filter_null_check_op import FilterNullCheckOp
from .filter_or import FilterOr
from .function import Function
from .function_create import FunctionCreate
from .function_created import FunctionCreated
from .function_page import FunctionPage
from .function_status import FunctionStatus
from .function_update import FunctionUpdate
from .function_update_status import FunctionUpdateStatus
from .geo_json_geometry import GeoJsonGeometry
from .geo_json_geometry_type import GeoJsonGeometryType
from .job import Job
from .job_bulk_create import JobBulkCreate
from .job_create import JobCreate
from .job_delete_query import JobDeleteQuery
from .job_kwargs import JobKwargs
from .job_page import JobPage
from .job_query import JobQuery
from .job_statistics import JobStatistics
from .job_statistics_cpu_type_0 import JobStatisticsCpuType0
from .job_statistics_memory_type_0 import JobStatisticsMemoryType0
from .job_statistics_network_type_0 import JobStatisticsNetworkType0
from .job_status import JobStatus
from .job_status_counts import JobStatusCounts
from .job_update import JobUpdate
from .json_api_error import JsonApiError
from .json_api_error_document import JsonApiErrorDocument
from .json_api_error_source import JsonApiErrorSource
from .page_meta import PageMeta
from .problem import Problem
from .problem_errors import ProblemErrors
from .storage_blob_attributes import StorageBlobAttributes
from .storage_blob_attributes_storage_state import StorageBlobAttributesStorageState
from .storage_blob_attributes_storage_type import StorageBlobAttributesStorageType
from .storage_blob_document import StorageBlobDocument
from .storage_blob_document_data import StorageBlobDocumentData
from .storage_blob_document_data_type import StorageBlobDocumentDataType
from .storage_download_document import StorageDownloadDocument
from .storage_download_document_data import StorageDownloadDocumentData
from .storage_download_document_data_attributes import StorageDownloadDocumentDataAttributes
from .storage_download_document_data_type import StorageDownloadDocumentDataType

__all__ = (
    "CredentialsInfo",
    "CredentialsSet",
    "DeleteFunctionDeleteResults",
    "DeleteJobDeleteResults",
    "Environment",
    "ExtraProperties",
    "FilterAnd",
    "FilterComparison",
    "FilterComparisonOp",
    "FilterNullCheck",
    "FilterNullCheckOp",
    "FilterOr",
    "Function",
    "FunctionCreate",
    "FunctionCreated",
    "FunctionPage",
    "FunctionStatus",
    "FunctionUpdate",
    "FunctionUpdateStatus",
    "GeoJsonGeometry",
    "GeoJsonGeometryType",
    "Job",
    "JobBulkCreate",
    "JobCreate",
    "JobDeleteQuery",
    "JobKwargs",
    "JobPage",
    "JobQuery",
    "JobStatistics",
    "JobStatisticsCpuType0",
    "JobStatisticsMemoryType0",
    "JobStatisticsNetworkType0",
    "JobStatus",
    "JobStatusCounts",
    "JobUpdate",
    "JsonApiError",
    "JsonApiErrorDocument",
    "JsonApiErrorSource",
    "PageMeta",
    "Problem",
    "ProblemErrors",
    "StorageBlobAttributes",
    "StorageBlobAttributesStorageState",
    "StorageBlobAttributesStorageType",
    "StorageBlobDocument",
    "StorageBlobDocumentData",
    "StorageBlobDocumentDataType",
    "StorageDownloadDocument",
    "StorageDownloadDocumentData",
    "StorageDownloadDocumentDataAttributes",
    "StorageDownloadDocumentDataType",
)
