{{/* The release's full name: the release name, with the chart's name added when it lacks it. */}}
{{- define "console.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "console.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: web, worker, beat, migrate, postgresql, redis. */}}
{{- define "console.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "console.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "console.fullname" .) -}}
{{- end -}}

{{- define "console.image" -}}
{{- required "image.tag is required: the tag scripts/images/console.sh printed" .Values.image.tag | printf "%s:%s" .Values.image.repository -}}
{{- end -}}

{{/* Kubernetes' environment variable for a Service of this release, e.g. X_POSTGRESQL_SERVICE_HOST:
     the bundled services are found through these, which need no cluster DNS. */}}
{{- define "console.serviceEnv" -}}
{{- printf "%s-%s" (include "console.fullname" .root) .service | upper | replace "-" "_" -}}_SERVICE_{{ .part }}
{{- end -}}

{{- define "console.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile: {type: RuntimeDefault}
{{- end -}}

{{- define "console.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: {drop: [ALL]}
{{- end -}}

{{/* The console's settings, the same for every process. */}}
{{- define "console.env" -}}
- name: CONSOLE_MODE
  value: production
- name: DJANGO_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.console.existingSecret | default (include "console.fullname" .) }}
      key: DJANGO_SECRET_KEY
- name: DJANGO_ALLOWED_HOSTS
  value: {{ join "," .Values.console.allowedHosts | quote }}
- name: DJANGO_CSRF_TRUSTED_ORIGINS
  value: {{ join "," .Values.console.csrfTrustedOrigins | quote }}
- name: CONSOLE_HTTPS
  value: {{ .Values.console.https | quote }}
- name: CONSOLE_RESYNC_SECONDS
  value: {{ .Values.console.resyncSeconds | quote }}
- name: CONSOLE_RESERVED_NAMESPACES
  value: {{ join "," (concat (list .Release.Namespace) .Values.console.reservedNamespaces) | quote }}
{{- with .Values.console.defaultDomain }}
- name: CONSOLE_DEFAULT_DOMAIN
  value: {{ . | quote }}
{{- end }}
{{- with .Values.console.flavorImages }}
- name: CONSOLE_FLAVOR_IMAGES
  value: {{ include "console.pairs" . | quote }}
{{- end }}
{{- if .Values.database.bundled.enabled }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "console.fullname" . }}, key: POSTGRES_PASSWORD}
- name: DATABASE_URL
  value: "postgres://console:$(POSTGRES_PASSWORD)@$({{ include "console.serviceEnv" (dict "root" . "service" "postgresql" "part" "HOST") }}):$({{ include "console.serviceEnv" (dict "root" . "service" "postgresql" "part" "PORT") }})/console"
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.database.existingSecret | default (include "console.fullname" .) }}, key: DATABASE_URL}
{{- end }}
{{- if .Values.redis.bundled.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "console.fullname" . }}, key: REDIS_PASSWORD}
- name: REDIS_URL
  value: "redis://:$(REDIS_PASSWORD)@$({{ include "console.serviceEnv" (dict "root" . "service" "redis" "part" "HOST") }}):$({{ include "console.serviceEnv" (dict "root" . "service" "redis" "part" "PORT") }})/0"
{{- else }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.redis.existingSecret | default (include "console.fullname" .) }}, key: REDIS_URL}
{{- end }}
{{- end -}}

{{- define "console.pairs" -}}
{{- $pairs := list -}}
{{- range $key, $value := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

{{/* Every console pod but the migration's waits until the database has this image's migrations. */}}
{{- define "console.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ include "console.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: [/bin/sh, -c]
  args:
    - until /app/scripts/console manage migrate --check >/dev/null 2>&1; do sleep 2; done
  env:
    {{- include "console.env" . | nindent 4 }}
  securityContext:
    {{- include "console.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - {name: tmp, mountPath: /tmp}
  resources:
    {{- toYaml .Values.migrate.resources | nindent 4 }}
{{- end -}}

{{- define "console.podSpecCommon" -}}
serviceAccountName: {{ include "console.serviceAccountName" . }}
securityContext:
  {{- include "console.podSecurityContext" . | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
