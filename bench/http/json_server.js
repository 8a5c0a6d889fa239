// the same JSON endpoint on Node's http module
const http = require("http");
let n = 0;
http.createServer((req, res) => {
  n++;
  const body = JSON.stringify({hello: "world", method: "get", n, path: req.url});
  res.writeHead(200, {"content-type": "application/json", "content-length": Buffer.byteLength(body)});
  res.end(body);
}).listen(+(process.env.PORT || 18092), "127.0.0.1");
