"""The served OpenAPI document is valid OpenAPI: generated clients and schemathesis rely on it."""

import pytest
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


def _declared(**declaration):
    """The responses and security the document gives one route declared with web.auth.route."""
    from apiflask import APIBlueprint, APIFlask

    from web.auth import route

    bp = APIBlueprint("x_api", __name__)

    @route(bp, "POST", "/things/<int:thing_id>", status=201, summary="A thing", **declaration)
    def thing(thing_id, **_):
        return {}

    app = APIFlask(__name__)
    app.config["VALIDATION_ERROR_STATUS_CODE"] = 400  # as web.create_app sets it
    app.register_blueprint(bp)
    op = app.spec["paths"]["/things/{thing_id}"]["post"]
    return {code: r["description"] for code, r in op["responses"].items()}


@pytest.mark.parametrize("declaration, responses", [
    ({"who": "admin", "errors": {409: "Taken"}},
     {"201": "Successful response", "404": "Not found", "401": "Not logged in", "403": "Not an admin",
      "409": "Taken"}),
    ({"who": ("admin", "supervisor")},
     {"201": "Successful response", "404": "Not found", "401": "Not logged in",
      "403": "Not an admin or supervisor"}),
    ({"who": ("kiosk", "staff"), "errors": {403: "Not a kiosk or staff"}},
     {"201": "Successful response", "404": "Not found", "401": "Not authenticated",
      "403": "Not a kiosk or staff"}),
    # The defaults a route does not word itself come first, then its own in its order.
    ({"who": "staff", "errors": {400: "Bad header", 401: "Log in first", 404: "No such thing"}},
     {"201": "Successful response", "404": "No such thing", "403": "Not staff",
      "400": "Bad header", "401": "Log in first"}),
    ({"who": "anyone", "errors": {404: "No such thing"}},
     {"201": "Successful response", "404": "No such thing"}),
], ids=["admin", "admin-or-supervisor", "device-words-its-403", "own-wording", "anyone"])
def test_route_documents_the_errors_of_its_callers(declaration, responses):
    got = _declared(**declaration)
    assert got == responses and list(got) == list(responses)


def test_a_declared_body_gets_the_validation_400():
    from web.schemas import TicketIn

    assert list(_declared(who="staff", body=TicketIn)) == ["201", "400", "404", "401", "403"]
