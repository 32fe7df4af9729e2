"""The app factory's common answers: the error shape documented in OpenAPI, and a 405 naming the right methods."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from shared.config import PlatformSettings, load_config
from shared.service_app import create_service_app
from tests.support.platform import write_config

router = APIRouter()


@router.get("/jobs/{job_id}")
async def get_job(job_id: int) -> dict[str, int]:
    return {"id": job_id}


@router.delete("/jobs/{job_id}")
async def delete_job(job_id: int) -> dict[str, int]:
    return {"id": job_id}


@router.post("/jobs/start")
async def start_job() -> dict[str, int]:
    return {"id": 1}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = load_config(write_config(tmp_path_factory.mktemp("app")), model=PlatformSettings)
    app = create_service_app("probe", settings, routers=[router], require_internal_token=False)
    with TestClient(app) as test_client:
        yield test_client


def test_openapi_every_operation_documents_the_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = operation["responses"]
            assert {"4XX", "503", "504"} <= set(documented), (method, path)
            assert documented["4XX"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
    assert "HTTPValidationError" not in schema["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        # Found by fuzzing: Starlette names the first matching route's methods, here /jobs/{job_id}'s.
        ("PUT", "/jobs/start", "POST"),
        ("POST", "/jobs/7", "DELETE, GET"),
    ],
)
def test_method_not_allowed_names_every_documented_method_of_the_resource(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_validation_error_answers_in_the_documented_shape(client: TestClient) -> None:
    response = client.get("/jobs/seven")

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["details"]["errors"][0]["field"]) == ("validation_error", "path.job_id")
