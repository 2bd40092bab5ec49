# Rendered by haproxy-confd from key revision ${revision}. Edits are overwritten by the next change.
global
  master-worker
  stats socket ${adminSocket} mode 600 level admin expose-fd listeners
  pidfile ${pidFile}
  hard-stop-after ${hardStopAfterMs?c}ms
  # Nothing here uses HAProxy's internal HTTP client (no Lua). Left at its default it loads the
  # system CA bundle on every start: ~50 of the ~60 ms that each check and each reload costs.
  httpclient.ssl.verify none

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  timeout tunnel 1h
  option idle-close-on-response
  option forwardfor
  http-error status 503 content-type text/plain string "503 Service Unavailable: no server of this service is available."

frontend http
  bind ${bind}:${httpPort?c}
<#if tls>
  bind ${bind}:${httpsPort?c} ssl crt-list ${crtList}
</#if>
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
  http-request set-header X-Forwarded-Port %[dst_port]
  http-request set-var(txn.host) req.hdr(host),field(1,:),lower
  http-request set-var(txn.path) path
  http-request set-var(txn.hp) var(txn.host),concat(,txn.path)
<#list lookups as l>
  http-request set-var(txn.be) ${l.fetch},${l.converter}(${l.file})<#if l.onlyIfUnmatched> if !{ var(txn.be) -m found }</#if>
</#list>
  use_backend %[var(txn.be)] if { var(txn.be) -m found }
  default_backend no-route

backend no-route
  http-request return status 503 content-type text/plain string "503 Service Unavailable: no service answers this host and path."
<#list userlists as u>

userlist ${u.name}
<#list u.users as user>
  user ${user.name} password ${user.hash}
</#list>
</#list>
<#list backends as b>

backend ${b.name}
  balance ${b.balance}
<#if b.forceHttps>
  http-request redirect scheme https code 301 unless { ssl_fc }
</#if>
<#if b.userlist?has_content>
  http-request auth realm ${b.name} unless { http_auth(${b.userlist}) }
</#if>
<#list b.rewrites as r>
  http-request replace-path '${r}' '/\1'
</#list>
<#if b.cookie?has_content>
  cookie ${b.cookie} insert indirect nocache
</#if>
<#if b.checkUri?has_content>
  option httpchk GET ${b.checkUri}
</#if>
<#list b.customLines as line>
  ${line}
</#list>
<#list b.servers as s>
  server ${s.name} ${s.address}:${s.port?c}<#if !s.enabled> disabled</#if><#if b.cookie?has_content> cookie ${s.name}</#if><#if b.checkUri?has_content> check<#if b.checkPort gt 0> port ${b.checkPort?c}</#if></#if>
</#list>
</#list>
<#list tcp as t>

listen ${t.name}
  bind ${bind}:${t.port?c}
  mode tcp
  balance ${t.balance}
<#list t.servers as s>
  server ${s.name} ${s.address}:${s.port?c}<#if !s.enabled> disabled</#if>
</#list>
</#list>

listen stats
  bind ${bind}:${statsPort?c}
  mode http
  http-request use-service prometheus-exporter if { path /metrics }
<#if statsPassword?has_content>
  stats enable
  stats uri /
  stats refresh 10s
  stats auth admin:${statsPassword}
<#else>
  http-request return status 404 content-type text/plain string "Set STATS_PASSWORD for the stats page; metrics are at /metrics."
</#if>
