from __future__ import annotations

from flask.testing import FlaskClient

from support import Auth


def test_health(desktop_client: FlaskClient) -> None:
    response = desktop_client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"ok": True}


def test_notes_api_needs_login(desktop_client: FlaskClient) -> None:
    for response in (
        desktop_client.get("/api/notes"),
        desktop_client.post("/api/notes", json={"title": "x"}),
    ):
        assert response.status_code == 401
        assert response.json == {"error": "Log in first."}


def test_create_and_list(alice: Auth) -> None:
    assert alice.client.get("/api/notes").json == {"notes": []}
    response = alice.client.post("/api/notes", json={"title": " From the API ", "body": "hello"})
    assert response.status_code == 201
    note = response.json
    assert note is not None
    assert note["title"] == "From the API"
    assert note["body"] == "hello"
    assert note["created"].endswith("+00:00")
    assert response.headers["Location"] == f"/api/notes/{note['id']}"
    assert alice.client.get(response.headers["Location"]).json == note
    assert alice.client.get("/api/notes").json == {"notes": [note]}
    assert alice.client.post("/api/notes", json={"title": "no body"}).json["body"] == ""  # type: ignore[index]


def test_create_validates(alice: Auth) -> None:
    cases = [
        ({"data": "title=x", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": ["a list"]}, 400),
        ({"json": {"body": "no title"}}, 400),
        ({"json": {"title": "   "}}, 400),
        ({"json": {"title": 5}}, 400),
        ({"json": {"title": "x" * 201}}, 400),
        ({"json": {"title": "ok", "body": ["not", "text"]}}, 400),
    ]
    for kwargs, status in cases:
        response = alice.client.post("/api/notes", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == status, kwargs
        assert isinstance(response.json, dict) and response.json["error"], kwargs
    assert alice.client.get("/api/notes").json == {"notes": []}


def test_notes_are_per_user(alice: Auth) -> None:
    created = alice.client.post("/api/notes", json={"title": "alice's"}).json
    assert created is not None
    alice.logout()
    alice.register("bob")
    assert alice.client.get("/api/notes").json == {"notes": []}
    assert alice.client.get(f"/api/notes/{created['id']}").status_code == 404
