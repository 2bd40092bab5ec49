# Rendered by haproxy-confd from key revision ${revision}. Edits are overwritten by the next change.
global
  master-worker
  stats socket ${adminSocket} mode 600 level admin expose-fd listeners
  pidfile ${pidFile}
  hard-stop-after ${hardStopAfterMs?c}ms
  # Nothing here uses HAProxy's internal HTTP client (no Lua). Left at its default it loads the
  # system CA bundle on every start: ~50 of the ~60 ms that each check and each reload costs.
  httpclient.ssl.verify none
  # Health checks of thousands of servers spread over the interval, not all at once.
  spread-checks 5
<#if serving.accessLog != "off">
  # Access log on the daemon's standard output: fd 3 is the daemon's stdout, handed to HAProxy.
  log fd@3 format raw daemon info
</#if>

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-request 10s
  timeout tunnel 1h
  option idle-close-on-response
  option forwardfor
  # Every server is health-checked; a request that meets a dead server before its check does is
  # retried on another server.
  retries 3
  option redispatch 1
  default-server inter ${serving.checkIntervalMs?c} fall 3 rise 2

  http-error status 503 content-type text/plain string "503 Service Unavailable: no server of this service is available."

frontend http
  bind ${bind}:${httpPort?c}${serving.bindOptions}
<#if tls>
  bind ${bind}:${httpsPort?c}${serving.bindOptions} ssl crt-list ${crtList}<#if serving.alpn?has_content> alpn ${serving.alpn}</#if>
</#if>
<#if serving.healthUri?has_content>
  # Answered by HAProxy itself, for the checks of a load balancer in front.
  monitor-uri ${serving.healthUri}
</#if>
<#if serving.accessLog != "off">
  # Only the listeners log: a backend with a logger would log a line for itself at every reload.
  log global
  option dontlognull
</#if>
<#if serving.accessLog == "text">
  option httplog
<#elseif serving.accessLog == "json">
  log-format '{"time":"%tr","client":"%ci:%cp","frontend":"%ft","backend":"%b","server":"%s","status":%ST,"bytes":%B,"ms":%Ta,"termination":"%ts","method":"%[capture.req.method,json(utf8s)]","host":"%[var(txn.host),json(utf8s)]","uri":"%[capture.req.uri,json(utf8s)]"}'
</#if>
  http-request set-header X-Forwarded-Proto https if { ssl_fc }
  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }
  http-request set-header X-Forwarded-Port %[dst_port]
  http-request set-var(txn.host) req.hdr(host),field(1,:),lower
  http-request set-var(txn.path) path
  http-request set-var(txn.hp) var(txn.host),concat(,txn.path)
  # Regex routes (url_reg) see the query string too, as the Kontena fork's 'url_reg -i' did.
  http-request set-var(txn.pathq) pathq
  http-request set-var(txn.hpq) var(txn.host),concat(,txn.pathq)
<#list lookups as l>
  http-request set-var(txn.be) ${l.fetch},${l.converter}(${l.file})<#if l.onlyIfUnmatched> if !{ var(txn.be) -m found }</#if>
</#list>
  # The url_beg prefix the chosen backend takes off (no keep_path): the longest '<backend><prefix>'
  # in ${stripMap} that begins '<backend><path>' is cut off, and one slash after it. A map, so that
  # it changes at runtime; the backend's redirect to HTTPS uses txn.pathq, the path as it came.
  http-request set-var(txn.bp) var(txn.be),concat(,txn.path)
  http-request set-var(txn.strip) var(txn.bp),map_beg(${stripMap})
  http-request set-path "%[var(txn.strip),concat(|,txn.bp),regsub('^([^|]*)[|]\\1/?','/')]" if { var(txn.strip) -m found }
  use_backend %[var(txn.be)] if { var(txn.be) -m found }
  default_backend no-route

backend no-route
  # Never run: it loads the map that says which service each spare backend serves until the next
  # reload ('show map ${sparesMap}' on the admin socket).
  http-request set-var(txn.spare) var(txn.be),map(${sparesMap}) if FALSE
  http-request return status 503 content-type text/plain string "503 Service Unavailable: no service answers this host and path."
<#list userlists as u>

userlist ${u.name}
<#list u.users as user>
  user ${user.name} <#if user.plain>insecure-password<#else>password</#if> ${user.hash}
</#list>
</#list>
<#-- Each backend is laid out by backend.ftl, and only again when it changes. -->
<#list renderedBackends as text>${text}</#list><#rt>
<#list tcp as t>

listen ${t.name}
  bind ${bind}:${t.port?c}${serving.bindOptions}
  mode tcp
  balance ${t.balance}
<#if serving.accessLog != "off">
  log global
</#if>
<#if serving.accessLog == "text">
  option tcplog
<#elseif serving.accessLog == "json">
  log-format '{"time":"%t","client":"%ci:%cp","listener":"%ft","backend":"%b","server":"%s","bytes":%B,"ms":%Tt,"termination":"%ts"}'
</#if>
<#list t.servers as s>
  server ${s.name} ${s.address}:${s.port?c}<#if s.check> check</#if><#if !s.enabled> disabled</#if>
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
  # Kontena's load balancer named its stats user 'stats'.
  stats auth stats:${statsPassword}
<#else>
  http-request return status 404 content-type text/plain string "Set STATS_PASSWORD for the stats page; metrics are at /metrics."
</#if>
