{{/*
Chart name, overridable with .Values.nameOverride.
*/}}
{{- define "ingest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified resource name, at most 63 characters (the DNS label limit of some Kubernetes name fields).
The release name alone when it already contains the chart name.
*/}}
{{- define "ingest.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "ingest.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable across upgrades (no version), for Deployment selectors and Services.
*/}}
{{- define "ingest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ingest.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels on every resource.
*/}}
{{- define "ingest.labels" -}}
helm.sh/chart: {{ include "ingest.chart" . }}
{{ include "ingest.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ingest
{{- if .Values.canary }}
canary: "true"
{{- end }}
{{- end }}

{{/*
Pod labels: the selector labels (stable), the canary mark and .Values.podLabels.
*/}}
{{- define "ingest.podLabels" -}}
{{ include "ingest.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: ingest
{{- if .Values.canary }}
canary: "true"
{{- end }}
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Name of the ServiceAccount the pods run as.
*/}}
{{- define "ingest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ingest.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Container image: repository and tag (the chart's appVersion when image.tag is empty).
*/}}
{{- define "ingest.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
Name of the PersistentVolumeClaim holding /data.
*/}}
{{- define "ingest.claimName" -}}
{{- default (printf "%s-data" (include "ingest.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
Kafka security.protocol from kafka.sasl.enabled and kafka.tls.enabled (empty: PLAINTEXT, librdkafka's default).
*/}}
{{- define "ingest.kafkaSecurityProtocol" -}}
{{- if and .Values.kafka.sasl.enabled .Values.kafka.tls.enabled }}SASL_SSL
{{- else if .Values.kafka.sasl.enabled }}SASL_PLAINTEXT
{{- else if .Values.kafka.tls.enabled }}SSL
{{- end }}
{{- end }}

{{/*
Checks of combinations the worker or Kubernetes would refuse; rendering stops with a message naming the value.
*/}}
{{- define "ingest.validate" -}}
{{- if not (has .Values.sink.kind (list "embedded" "elasticsearch")) }}
{{- fail (printf "sink.kind must be embedded or elasticsearch, not %q" .Values.sink.kind) }}
{{- end }}
{{- if and (eq .Values.sink.kind "elasticsearch") (empty .Values.elasticsearch.urls) }}
{{- fail "elasticsearch.urls is required with sink.kind elasticsearch" }}
{{- end }}
{{- if empty .Values.secrets.apiToken.existingSecret }}
{{- fail "secrets.apiToken.existingSecret is required: the API binds all interfaces in the pod and the worker refuses that without Serve:ApiToken (create the Secret, see helm/README.md)" }}
{{- end }}
{{- if and .Values.kafka.sasl.enabled (empty .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.existingSecret is required with kafka.sasl.enabled (a Secret with the SASL user name and password)" }}
{{- end }}
{{- if and .Values.persistence.enabled (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) }}
{{- fail "persistence.enabled holds one embedded store on one volume: use replicaCount 1 without autoscaling, or sink.kind elasticsearch with persistence disabled to scale out" }}
{{- end }}
{{- end }}
