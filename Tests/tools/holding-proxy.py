#!/usr/bin/env python3
"""A TCP proxy for tests: forwards 127.0.0.1:LISTEN to 127.0.0.1:TARGET, byte for byte (TLS passes
through untouched). While the file HOLD exists, what the server sends back is held, not forwarded:
a request reaches the server and its answer does not reach the client, as when a station is cut off
(or killed) between sending and hearing the answer. Prints the port it listens on."""
import asyncio
import os
import sys

listen_port, target_port, hold_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


async def pipe(reader, writer, holdable):
    try:
        while data := await reader.read(65536):
            while holdable and os.path.exists(hold_file):
                await asyncio.sleep(0.05)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:  # the cloud is down: the client sees its connection closed
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer, False), pipe(server_reader, client_writer, True))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
