import { roundScore } from '../../common/score';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IMAGE_ROLES, ImageRole } from '../recognition-record.types';
import type { RecordView } from '../record-rows';

export class RecordDefectDto {
  @ApiProperty({ example: 'spot_image', description: 'Wire field the defect concerns.' })
  field: string;

  @ApiProperty({ example: 'truncated_image' })
  code: string;

  @ApiProperty()
  message: string;
}

/** A record in lists: who, where, when, how sure. No images, no feature. */
export class RecordSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  boxId: string;

  @ApiProperty({ format: 'uuid' })
  mediaDeviceId: string;

  @ApiProperty({ description: 'media_device_id as the box sent it.' })
  deviceExternalId: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  identityId: string | null;

  @ApiProperty({ description: 'identity_id as the box sent it ("" when it named nobody).' })
  identityExternalId: string;

  @ApiProperty({ nullable: true, type: String })
  identityName: string | null;

  @ApiProperty({ nullable: true, type: String, example: 'employee' })
  userType: string | null;

  @ApiProperty({ description: 'Event time from the box, epoch milliseconds.' })
  occurredAt: number;

  @ApiProperty({ nullable: true, type: Number, description: 'Normalised 0-1, rounded to 6 decimals (raw 70.7 → 0.707).' })
  score: number | null;

  @ApiProperty({ nullable: true, type: Number, description: 'As sent (0-100 on current firmware, 0-1 on older).' })
  scoreRaw: number | null;

  @ApiProperty({ nullable: true, type: String, example: '0' })
  postAction: string | null;

  @ApiProperty()
  hasDefects: boolean;

  @ApiProperty({
    enum: IMAGE_ROLES,
    isArray: true,
    description: 'Images stored with the record (fetch each from /records/{id}/images/{role}).',
  })
  imageRoles: ImageRole[];

  @ApiProperty({ description: 'Whether a feature vector is stored (fetch it from /records/{id}/feature).' })
  hasFeature: boolean;

  static from(v: RecordView): RecordSummaryDto {
    return {
      id: v.id,
      boxId: v.boxId,
      mediaDeviceId: v.mediaDeviceId,
      deviceExternalId: v.deviceExternalId,
      identityId: v.identityId,
      identityExternalId: v.identityExternalId,
      identityName: v.identityName,
      userType: v.userType,
      occurredAt: v.occurredAt,
      score: roundScore(v.score),
      scoreRaw: v.scoreRaw,
      postAction: v.postAction,
      hasDefects: v.hasDefects,
      imageRoles: IMAGE_ROLES.filter((r) => v.images[r]),
      hasFeature: v.hasFeature,
    };
  }
}

export class RecordImageDto {
  @ApiProperty({ enum: IMAGE_ROLES })
  role: ImageRole;

  @ApiProperty({ description: 'sha256 of the bytes; also the ETag of the image endpoint.' })
  sha256: string;

  @ApiProperty({ nullable: true, type: String, example: 'image/jpeg' })
  contentType: string | null;

  @ApiProperty({ nullable: true, type: Number })
  byteSize: number | null;

  @ApiProperty({ example: '/records/…/images/scene', description: 'Needs the biometric-reader role.' })
  url: string;
}

export class FaceAttributesDto {
  @ApiPropertyOptional({ nullable: true, type: String }) mask: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) gender: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) hat: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) age: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) glasses: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) expression: string | null;
}

export class RecordBoxRefDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ description: 'mq_license_key.' }) licenseKey: string;
}

export class RecordMediaDeviceRefDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() deviceId: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'rtsp' }) type: string | null;
}

/** Everything about a record except image bytes and the feature vector. */
export class RecordDetailDto extends RecordSummaryDto {
  @ApiProperty({ type: RecordBoxRefDto, nullable: true })
  box: RecordBoxRefDto | null;

  @ApiProperty({ type: RecordMediaDeviceRefDto, nullable: true })
  mediaDevice: RecordMediaDeviceRefDto | null;

  @ApiProperty({ nullable: true, type: Number, description: 'Person entered the view, epoch ms.' })
  enteredAt: number | null;

  @ApiProperty({ nullable: true, type: Number, description: 'Person left the view, epoch ms.' })
  leftAt: number | null;

  @ApiProperty({ nullable: true, type: String })
  apiVersion: string | null;

  @ApiProperty({ type: FaceAttributesDto, nullable: true })
  attributes: FaceAttributesDto | null;

  @ApiProperty({ type: [Number], nullable: true, description: '5 landmarks as x1,y1,…,x5,y5.' })
  landmarks: number[] | null;

  @ApiProperty({ type: [Number], nullable: true, description: 'Face box [x1,y1,x2,y2] in the scene image.' })
  faceBox: number[] | null;

  @ApiProperty({ type: [RecordImageDto] })
  images: RecordImageDto[];

  @ApiProperty({ type: [RecordDefectDto] })
  defects: RecordDefectDto[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Fields the hub does not know, as sent (long strings omitted).',
  })
  extra: Record<string, unknown> | null;

  @ApiProperty({ nullable: true, type: String })
  sourceAddress: string | null;

  @ApiProperty({ description: 'When the hub stored it, epoch ms.' })
  receivedAt: number;
}

export class RecordPageDto {
  @ApiProperty({ type: [RecordSummaryDto] })
  items: RecordSummaryDto[];

  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next (older) page; null at the end.' })
  nextCursor: string | null;
}

export class FeatureVectorDto {
  @ApiProperty({ format: 'uuid' })
  recordId: string;

  @ApiProperty({ example: 512 })
  dimensions: number;

  @ApiProperty({ type: [Number], description: 'The L2-normalised float32 values, as the box computed them.' })
  values: number[];
}
