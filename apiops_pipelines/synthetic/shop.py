"""The shop: a two-operation API the delivery tests and the canary benchmark release to production."""

SHOP_SPEC = '''\
openapi: 3.0.3
info: {{title: Shop, version: {version}, description: Pens and ink.}}
servers: [{{url: "https://shop.example.org"}}]
paths:
  /items:
    get:
      operationId: listItems
      description: Every item.
      responses:
        "200": {{description: the items, content: {{application/json: {{schema: {{type: object}}}}}}}}
  /items/{{id}}:
    get:
      operationId: getItem
      description: One item.
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: integer, minimum: 1, maximum: 2}}, example: 1}}
      responses:
        "200": {{description: the item, content: {{application/json: {{schema: {{type: object}}}}}}}}
        "404": {{description: no such item}}
'''
