"""Files: Slack's external upload flow (get an upload URL, send the bytes, complete) and the shared files.

Uploads to the ``upload_url`` are recorded as calls to
:data:`~chatops.testing.fake_slack.web_api.UPLOAD_METHOD`; completing an upload shares
the files as a message in each channel named.
"""

from __future__ import annotations

import copy
import time
from email.parser import BytesParser
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from chatops.testing.fake_slack.messages import Messages
from chatops.testing.fake_slack.web_api import UPLOAD_METHOD, Call, SlackError, missing


class Files(Messages):
    """The files part of the fake."""

    _files: dict[str, dict[str, Any]]

    def _reset_files(self) -> None:
        """Forget uploaded files. Lock held."""
        self._files = {}

    def file(self, file_id: str) -> dict[str, Any]:
        """An uploaded file.

        Keys: ``id, filename, length`` (announced), ``content`` (bytes, None until
        uploaded), ``title, channels, completed``.
        """
        with self._lock:
            if file_id not in self._files:
                raise KeyError(f"no file {file_id}; known: {list(self._files)}")
            return copy.deepcopy(self._files[file_id])

    async def _handle_upload(self, request: Request) -> Response:
        """Serve an ``upload_url``: store the raw (or multipart) bytes for the file."""
        file_id = request.path_params["file_id"]
        received = time.monotonic()
        body = await request.body()
        content = body
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
            parts = [p for p in message.walk() if not p.is_multipart()]
            if parts:
                payload = parts[0].get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
        with self._lock:
            record = self._files.get(file_id)
            if record is None:
                status, response = 404, {"ok": False, "error": "file_not_found"}
            else:
                record["content"] = content
                record["uploaded_length"] = len(content)
                status, response = 200, {"ok": True}
            self._calls.append(
                Call(
                    UPLOAD_METHOD,
                    {"file_id": file_id, "length": len(content)},
                    None,
                    status,
                    response,
                    received,
                )
            )
        if status != 200:
            return PlainTextResponse("file not found", status_code=status)
        return PlainTextResponse(f"OK - {len(content)}")

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.getUploadURLExternal``: a file id and an upload URL on this server."""
        try:
            length = int(args["length"])
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments", messages=["length must be an integer"]) from None
        file_id = self._next_id("F")
        self._files[file_id] = {
            "id": file_id,
            "filename": str(args["filename"]),
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "content": None,
            "uploaded_length": None,
            "title": None,
            "channels": [],
            "completed": False,
        }
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.completeUploadExternal``: share uploaded files as a message."""
        files = args["files"]
        if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
            raise SlackError("invalid_arguments", messages=["files must be an array of {id, title}"])
        for item in files:
            record = self._files.get(str(item["id"]))
            if record is None or record["content"] is None:
                raise SlackError("file_not_found")
        channels: list[str] = []
        if not missing(args.get("channel_id")):
            channels.append(self._channel_arg(args, "channel_id"))
        if not missing(args.get("channels")):
            channels.extend(self._resolve_channel(c.strip()) for c in str(args["channels"]).split(",") if c.strip())
        roots = {channel: self._thread_root(channel, args.get("thread_ts")) for channel in channels}
        shared = []
        for item in files:
            record = self._files[str(item["id"])]
            record["title"] = item.get("title") or record["filename"]
            record["completed"] = True
            record["channels"] = channels
            shared.append(
                {
                    "id": record["id"],
                    "name": record["filename"],
                    "title": record["title"],
                    "size": len(record["content"]),
                }
            )
        for channel in channels:
            self._store_message(
                channel,
                text=str(args.get("initial_comment") or ""),
                blocks=[],
                thread_ts=roots[channel],
                files=copy.deepcopy(shared),
                upload=True,
            )
        return {"files": shared}
