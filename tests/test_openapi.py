"""The served OpenAPI document is valid OpenAPI: generated clients and schemathesis rely on it."""

from openapi_spec_validator import validate


def test_served_openapi_document_passes_openapi_spec_validator(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    spec = r.json
    assert spec["openapi"].startswith("3.")
    validate(spec)  # raises with the first error's path, e.g. a default outside its oneOf


def test_every_error_answer_of_the_document_has_the_error_shape(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "ErrorOut" in spec["components"]["schemas"]
    ticket_in = spec["components"]["schemas"]["TicketIn"]["properties"]["priority"]
    # The default itself is one of the choices.
    assert {"type": "null"} in ticket_in["oneOf"] and ticket_in["default"] is None
    services = spec["paths"]["/api/v1/services"]["post"]["responses"]
    assert "409" in services  # prefix_taken
